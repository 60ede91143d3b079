//! `plenum admin ...`: account administration from the command line (e.g. the first admin).

use std::io::BufRead;

use crate::accounts::{self, NewUser, Role, password};
use crate::audit::Actor;
use crate::config::{AdminCommand, CreateUserArgs};
use crate::db::Db;

#[derive(Debug, thiserror::Error)]
pub enum AdminCliError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Account(#[from] accounts::AccountError),
    #[error("cannot start the runtime: {0}")]
    Runtime(std::io::Error),
}

/// Run an admin command; errors as text for the binary.
pub fn run(command: AdminCommand) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    match command {
        AdminCommand::CreateUser(args) => {
            let password = read_password(std::io::stdin().lock()).map_err(|e| e.to_string())?;
            let user = runtime.block_on(create_user(&args, &password)).map_err(|e| e.to_string())?;
            println!("created {} account {} <{}> (id {})", user.role.as_str(), user.name, user.email, user.id);
            Ok(())
        }
    }
}

/// The first line of `input`, without its line ending.
pub fn read_password(mut input: impl BufRead) -> Result<String, AdminCliError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(AdminCliError::Stdin)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// `plenum admin create-user`.
pub async fn create_user(args: &CreateUserArgs, password: &str) -> Result<accounts::User, AdminCliError> {
    if let Some(msg) = accounts::check_email(&args.email) {
        return Err(AdminCliError::Invalid(format!("--email: {msg}")));
    }
    if let Some(msg) = accounts::check_user_name(&args.name) {
        return Err(AdminCliError::Invalid(format!("--name: {msg}")));
    }
    if let Some(msg) = password::check_strength(password) {
        return Err(AdminCliError::Invalid(format!("password: {msg}")));
    }
    let role = Role::parse(&args.role).ok_or_else(|| AdminCliError::Invalid("--role: admin or staff".into()))?;
    let hash = password::hash(password).map_err(accounts::AccountError::from)?;
    let db = Db::open(args.database.database_url.as_deref(), &args.data_dir).await?;
    let new = NewUser { email: args.email.clone(), name: args.name.clone(), role, password_hash: Some(hash) };
    let user = accounts::create_user(&db, new, &Actor::command_line()).await?;
    db.pool().close().await;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Cli, Command};
    use clap::Parser;

    #[tokio::test]
    async fn create_user_from_the_command_line() {
        let dir = std::env::temp_dir().join(format!("plenum-admin-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cli = Cli::try_parse_from([
            "plenum", "admin", "create-user", "--email", "Erika@Example.org", "--name", "Erika", "--role", "admin",
            "--password-stdin", "--data-dir", dir.to_str().unwrap(),
        ])
        .unwrap();
        let Command::Admin(AdminCommand::CreateUser(args)) = cli.command else { panic!("create-user") };
        let pw = read_password(&b"a long password\nignored\n"[..]).unwrap();
        assert_eq!(pw, "a long password");
        let user = create_user(&args, &pw).await.unwrap();
        assert_eq!((user.email.as_str(), user.role), ("erika@example.org", Role::Admin));
        let db = Db::open(None, &dir).await.unwrap();
        let (_, hash) = accounts::find_by_email(&db, "erika@example.org").await.unwrap().unwrap();
        assert!(password::verify("a long password", &hash.unwrap()));
        // The same email again is refused.
        let err = create_user(&args, &pw).await.unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        let err = create_user(&args, "short").await.unwrap_err();
        assert!(err.to_string().contains("at least"), "{err}");
        db.pool().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
