// User management for admins: the list, a new account, and editing one (name, email, role, password, disabled)
// with the version last read, so a racing change by another admin is reported (409), never overwritten.

import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, type User } from './api';
import { errorMessage } from './messages';
import type { PortalDict } from './strings';

type Fields = Record<string, string>;

function fieldsOf(err: unknown): Fields {
  return err instanceof ApiError ? (err.body.fields ?? {}) : {};
}

export function UsersPage({ t, me }: { t: PortalDict; me: User }) {
  const [users, setUsers] = useState<User[]>([]);
  const [editing, setEditing] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    api<User[]>('GET', '/users')
      .then(setUsers)
      .catch((e) => setError(errorMessage(t, e)));
  useEffect(() => {
    void load();
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  const remove = async (u: User) => {
    await api('DELETE', `/users/${u.id}`).catch((e) => setError(errorMessage(t, e)));
    void load();
  };
  if (editing) {
    return (
      <UserForm
        t={t}
        user={editing}
        self={editing.id === me.id}
        onDone={() => {
          setEditing(null);
          void load();
        }}
      />
    );
  }
  return (
    <section>
      <h1>{t.users}</h1>
      {error && <p role="alert" className="warning">{error}</p>}
      <table>
        <thead>
          <tr><th>{t.name}</th><th>{t.email}</th><th>{t.role}</th><th>{t.accountState}</th><th /></tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-testid="user-row" data-user-email={u.email} data-disabled={String(u.disabled)}>
              <td>{u.name}</td><td>{u.email}</td><td>{u.role}</td>
              <td>{u.disabled ? t.disabled : t.active}</td>
              <td>
                <button type="button" onClick={() => setEditing(u)} data-testid="user-edit">{t.edit}</button>
                {u.id !== me.id && <button type="button" onClick={() => remove(u)}>{t.delete}</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <NewUserForm t={t} onCreated={() => void load()} />
    </section>
  );
}

function NewUserForm({ t, onCreated }: { t: PortalDict; onCreated: () => void }) {
  const [form, setForm] = useState({ email: '', name: '', role: 'staff', password: '' });
  const [fields, setFields] = useState<Fields>({});
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('POST', '/users', form);
      setForm({ email: '', name: '', role: 'staff', password: '' });
      setFields({});
      onCreated();
    } catch (err) {
      setFields(err instanceof ApiError ? (err.body.fields ?? { error: err.body.message }) : {});
    }
  };
  return (
    <form className="portal-card" onSubmit={create}>
      <h2>{t.newUser}</h2>
      {(['email', 'name', 'password'] as const).map((k) => (
        <label key={k}>
          {t[k]}
          <input type={k === 'password' ? 'password' : 'text'} value={form[k]} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
          {fields[k] && <span className="warning" role="alert">{fields[k]}</span>}
        </label>
      ))}
      <label>
        {t.role}
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
          <option value="staff">staff</option>
          <option value="admin">admin</option>
        </select>
      </label>
      <button type="submit" className="primary">{t.save}</button>
    </form>
  );
}

function UserForm({ t, user, self, onDone }: { t: PortalDict; user: User; self: boolean; onDone: () => void }) {
  const [name, setName] = useState(user.name);
  const [email, setEmail] = useState(user.email);
  const [role, setRole] = useState(user.role);
  const [password, setPassword] = useState('');
  const [disabled, setDisabled] = useState(user.disabled);
  const [fields, setFields] = useState<Fields>({});
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = { name, email, role, disabled, password: password || undefined, version: user.version };
    try {
      await api('PUT', `/users/${user.id}`, body);
      onDone();
    } catch (err) {
      setFields(fieldsOf(err));
      setError(err instanceof ApiError && err.body.code === 'validation' ? null : errorMessage(t, err));
    }
  };
  const fieldError = (k: string) =>
    fields[k] && <span className="warning" role="alert" data-testid={`user-error-${k}`}>{fields[k]}</span>;
  return (
    <form className="portal-card" onSubmit={submit} data-testid="user-form">
      <h1>{t.editUser}</h1>
      <label>
        {t.name}
        <input value={name} onChange={(e) => setName(e.target.value)} data-testid="user-name" />
      </label>
      {fieldError('name')}
      <label>
        {t.email}
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} data-testid="user-email" />
      </label>
      {fieldError('email')}
      <label>
        {t.role}
        <select value={role} onChange={(e) => setRole(e.target.value as User['role'])} data-testid="user-role">
          <option value="staff">staff</option>
          <option value="admin">admin</option>
        </select>
      </label>
      {fieldError('role')}
      <label>
        {t.newPassword}
        <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {fieldError('password')}
      <label>
        <input type="checkbox" checked={disabled} onChange={(e) => setDisabled(e.target.checked)} data-testid="user-disabled" /> {t.disableAccount}
      </label>
      {self && <p className="hint">{t.selfHint}</p>}
      {fieldError('disabled')}
      {error && <p role="alert" className="warning" data-testid="user-form-error">{error}</p>}
      <button type="submit" className="primary" data-testid="user-save">{t.save}</button>
      <button type="button" onClick={onDone}>{t.cancel}</button>
    </form>
  );
}
