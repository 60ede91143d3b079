//! `plenum.toml`: every option of `plenum serve` can also be set in a TOML file given with `--config FILE`
//! (`PLENUM_CONFIG`). The file's keys are the long flags with `_` for `-` (`http_addr` for `--http-addr`); a table
//! groups keys by prefix (`[tls] cert_file` is `tls_cert_file`). Precedence: command line, then environment
//! variable, then the file, then the built-in default.
//!
//! The option set is read from the clap definition itself, so a new flag is a valid file key at once and shows up
//! in `plenum config example`. `plenum config check FILE` reports every problem with its line. Relative paths in
//! the file are relative to the server's working directory.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches};
use toml::de::{DeTable, DeValue};

use crate::config::Cli;

/// Arguments that are not settings (or would make no sense in the file).
const NOT_IN_FILE: &[&str] = &["help", "version", "config"];

/// One problem in a configuration file. The messages are documented in `docs/operations.md`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the file: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}:{line}: not valid TOML: {message}")]
    Syntax { path: String, line: usize, message: String },
    #[error("{path}:{line}: unknown key \"{key}\"{hint}")]
    UnknownKey { path: String, line: usize, key: String, hint: String },
    #[error("{path}:{line}: \"{key}\" must be {expected}")]
    WrongType { path: String, line: usize, key: String, expected: &'static str },
    #[error("{path}:{line}: bad value for \"{key}\": {reason}")]
    BadValue { path: String, line: usize, key: String, reason: String },
    #[error("{path}:{line}: \"{key}\": cannot read {file}: {reason}")]
    MissingFile { path: String, line: usize, key: String, file: String, reason: String },
    #[error("{path}:{line}: set only one of \"{key}\" and \"{other}\"")]
    Conflict { path: String, line: usize, key: String, other: String },
    #[error("{path}:{line}: \"{key}\" needs \"{other}\" too")]
    Requires { path: String, line: usize, key: String, other: String },
    #[error("{path}:{line}: \"{key}\": {reason}")]
    BadFile { path: String, line: usize, key: String, reason: String },
    #[error("{path}:{line}: {message}")]
    Invalid { path: String, line: usize, message: String },
}

/// One setting from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The clap argument id (`tls_cert_file`).
    pub id: String,
    /// Values as the command line would give them (several for repeatable options).
    pub values: Vec<String>,
    pub line: usize,
}

/// A parsed, checked configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFile {
    pub entries: Vec<Entry>,
}

fn serve_command() -> Command {
    let mut cli = Cli::command();
    cli.build();
    cli.find_subcommand("serve").cloned().expect("the serve subcommand exists")
}

/// Parse and check `path` against the options of `plenum serve`. All problems are returned, in file order.
pub fn load(path: &Path) -> Result<ConfigFile, Vec<ConfigError>> {
    let (file, errors) = load_lenient(path);
    if errors.is_empty() { Ok(file) } else { Err(errors) }
}

fn load_lenient(path: &Path) -> (ConfigFile, Vec<ConfigError>) {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_lenient(&shown, &text),
        Err(e) => (ConfigFile::default(), vec![ConfigError::Read { path: shown, reason: e.to_string() }]),
    }
}

/// Parse and check the text of a configuration file (`path` is only used in messages).
pub fn parse(path: &str, text: &str) -> Result<ConfigFile, Vec<ConfigError>> {
    let (file, errors) = parse_lenient(path, text);
    if errors.is_empty() { Ok(file) } else { Err(errors) }
}

/// The valid settings, and the problems (sorted by line).
fn parse_lenient(path: &str, text: &str) -> (ConfigFile, Vec<ConfigError>) {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let table = match DeTable::parse(text) {
        Ok(table) => table,
        Err(e) => {
            let line = e.span().map_or(1, |s| line_of(s.start));
            let message = e.message().trim().to_owned();
            return (ConfigFile::default(), vec![ConfigError::Syntax { path: path.to_owned(), line, message }]);
        }
    };
    let serve = serve_command();
    // The same options without their environment variables, so the environment cannot change the verdict.
    let validator = serve.clone().mut_args(|a| a.env(None::<&'static str>));
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    let mut flat = Vec::new();
    flatten("", table.get_ref(), &mut flat);
    for (key, value, offset) in flat {
        let line = line_of(offset);
        let id = key.replace('.', "_");
        let arg = serve.get_arguments().find(|a| a.get_id() == id.as_str() && !NOT_IN_FILE.contains(&id.as_str()));
        let Some(arg) = arg else {
            errors.push(ConfigError::UnknownKey { path: path.to_owned(), line, hint: suggest(&id, &serve), key });
            continue;
        };
        let repeatable = matches!(arg.get_action(), ArgAction::Append);
        let flag = matches!(arg.get_action(), ArgAction::SetTrue);
        let values = match (value, repeatable, flag) {
            (DeValue::Boolean(b), _, true) => vec![b.to_string()],
            (_, _, true) => {
                errors.push(ConfigError::WrongType { path: path.to_owned(), line, key, expected: "true or false" });
                continue;
            }
            (DeValue::Array(items), true, _) => {
                let scalars: Option<Vec<String>> = items.iter().map(|v| scalar(v.get_ref())).collect();
                match scalars {
                    Some(values) => values,
                    None => {
                        let expected = "a list of strings or numbers";
                        errors.push(ConfigError::WrongType { path: path.to_owned(), line, key, expected });
                        continue;
                    }
                }
            }
            (value, _, _) => match scalar(value) {
                Some(v) => vec![v],
                None => {
                    let expected = if repeatable { "a string or a list of strings" } else { "a string or a number" };
                    errors.push(ConfigError::WrongType { path: path.to_owned(), line, key, expected });
                    continue;
                }
            },
        };
        let mut bad = false;
        if !flag {
            let long = arg.get_long().unwrap_or(id.as_str());
            for v in &values {
                // clap's own parser of this option, on a command line that holds only it.
                let argv = [OsString::from("serve"), OsString::from(format!("--{long}={v}"))];
                if let Err(e) = validator.clone().try_get_matches_from(argv) {
                    let reason = clap_reason(&e);
                    errors.push(ConfigError::BadValue { path: path.to_owned(), line, key: key.clone(), reason });
                    bad = true;
                }
            }
        }
        if !bad {
            entries.push(Entry { id, values, line });
        }
    }
    // Options that exclude each other (`secret` and `secret_file`).
    for entry in &entries {
        if let Some(base) = entry.id.strip_suffix("_file")
            && entries.iter().any(|e| e.id == base)
        {
            let (key, other) = (base.to_owned(), entry.id.clone());
            errors.push(ConfigError::Conflict { path: path.to_owned(), line: entry.line, key, other });
        }
    }
    errors.sort_by_key(ConfigError::line);
    entries.sort_by_key(|e| e.line);
    (ConfigFile { entries }, errors)
}

impl ConfigError {
    /// The line the problem is on (0 when it concerns the whole file).
    pub fn line(&self) -> usize {
        match self {
            ConfigError::Read { .. } => 0,
            ConfigError::Syntax { line, .. }
            | ConfigError::UnknownKey { line, .. }
            | ConfigError::WrongType { line, .. }
            | ConfigError::BadValue { line, .. }
            | ConfigError::MissingFile { line, .. }
            | ConfigError::Conflict { line, .. }
            | ConfigError::Requires { line, .. }
            | ConfigError::BadFile { line, .. }
            | ConfigError::Invalid { line, .. } => *line,
        }
    }
}

/// What `plenum config check` adds: files the settings name must be readable (and TLS files usable).
pub fn check(path: &Path) -> Result<ConfigFile, Vec<ConfigError>> {
    let (file, mut errors) = load_lenient(path);
    let shown = path.display().to_string();
    errors.extend(checks::files(&file, &shown));
    if errors.is_empty() {
        errors.extend(check_oidc(&shown, &file));
    }
    errors.sort_by_key(ConfigError::line);
    if errors.is_empty() { Ok(file) } else { Err(errors) }
}

/// The `oidc_*` options together (an issuer needs a client id, a client id needs an issuer, ...), checked as
/// `plenum serve` checks them at start; the problem is reported on the line of the option it names.
fn check_oidc(shown: &str, file: &ConfigFile) -> Option<ConfigError> {
    let oidc_entries: Vec<&Entry> = file.entries.iter().filter(|e| e.id.starts_with("oidc_")).collect();
    let first = oidc_entries.first()?;
    let validator = serve_command().mut_args(|a| a.env(None::<&'static str>));
    let mut argv = vec![OsString::from("serve")];
    for entry in &oidc_entries {
        let Some(arg) = validator.get_arguments().find(|a| a.get_id() == entry.id.as_str()) else { continue };
        let Some(long) = arg.get_long() else { continue };
        argv.extend(entry.values.iter().map(|v| OsString::from(format!("--{long}={v}"))));
    }
    let matches = validator.try_get_matches_from(argv).ok()?;
    let args = crate::config::ServeArgs::from_arg_matches(&matches).ok()?;
    let problem = crate::oidc::OidcSettings::from_args(&args.oidc).err()?;
    let message = problem.to_string();
    // The line of the first option the message names, else of the first oidc_* option.
    let line = oidc_entries
        .iter()
        .find(|e| message.contains(&format!("\"{}\"", e.id)))
        .map_or(first.line, |e| e.line);
    Some(ConfigError::Invalid { path: shown.to_owned(), line, message })
}

/// Keys with their values and byte offsets; tables become dotted prefixes.
fn flatten<'a, 'i>(prefix: &str, table: &'a DeTable<'i>, out: &mut Vec<(String, &'a DeValue<'i>, usize)>) {
    for (key, value) in table {
        let name = if prefix.is_empty() { key.get_ref().to_string() } else { format!("{prefix}.{}", key.get_ref()) };
        match value.get_ref() {
            DeValue::Table(inner) => flatten(&name, inner, out),
            other => out.push((name, other, key.span().start)),
        }
    }
}

fn scalar(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => Some(i.as_str().replace('_', "")),
        DeValue::Float(f) => Some(f.to_string()),
        DeValue::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// clap's message without its "error: " prefix, usage and help: "'VALUE': why".
fn clap_reason(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if !first.starts_with("invalid value") {
        return first.to_owned();
    }
    // "invalid value 'x' for '--http-addr <HTTP_ADDR>': invalid socket address syntax", or without the reason and
    // a "[possible values: a, b]" line below.
    let value = first.split('\'').nth(1).unwrap_or_default();
    let reason = match first.split_once(">': ") {
        Some((_, reason)) => reason.to_owned(),
        None => text
            .lines()
            .find_map(|l| l.trim().strip_prefix("[possible values: ").and_then(|v| v.strip_suffix(']')))
            .map(|values| format!("expected one of {values}"))
            .unwrap_or_else(|| "not accepted".to_owned()),
    };
    format!("'{value}': {reason}")
}

fn suggest(key: &str, serve: &Command) -> String {
    let best = serve
        .get_arguments()
        .map(|a| a.get_id().as_str())
        .filter(|id| !NOT_IN_FILE.contains(id))
        .map(|id| (strsim::jaro(key, id), id))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, id)) => format!(" (did you mean \"{id}\"?)"),
        None => " (see `plenum config example` for every option)".to_owned(),
    }
}

/// The command line with the file's settings added for every option not given on the command line or in the
/// environment, parsed. `args` are the process arguments (program name first).
pub fn parse_cli_with_file(args: Vec<OsString>) -> Result<Cli, CliError> {
    let matches = Cli::command().try_get_matches_from(&args).map_err(CliError::Clap)?;
    let Some((sub, sub_matches)) = matches.subcommand() else { return Cli::from_arg_matches(&matches).map_err(CliError::Clap) };
    let Some(path) = sub_matches.try_get_one::<PathBuf>("config").ok().flatten().cloned() else {
        return Cli::from_arg_matches(&matches).map_err(CliError::Clap);
    };
    let file = load(&path).map_err(CliError::File)?;
    let extra = file_args(&file, sub, sub_matches);
    if extra.is_empty() {
        return Cli::from_arg_matches(&matches).map_err(CliError::Clap);
    }
    // The file's flags go right after the subcommand, so nothing on the command line can be one of their values.
    let position = args.iter().position(|a| a == sub).unwrap_or(1) + 1;
    let mut merged = args[..position].to_vec();
    merged.extend(extra);
    merged.extend_from_slice(&args[position..]);
    let matches = Cli::command().try_get_matches_from(&merged).map_err(CliError::Clap)?;
    Cli::from_arg_matches(&matches).map_err(CliError::Clap)
}

/// Flags for the settings of `file` that `sub` knows and that were not given otherwise.
fn file_args(file: &ConfigFile, sub: &str, matches: &ArgMatches) -> Vec<OsString> {
    let mut cli = Cli::command();
    cli.build();
    let Some(command) = cli.find_subcommand(sub) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in &file.entries {
        let Some(arg) = command.get_arguments().find(|a| a.get_id() == entry.id.as_str()) else { continue };
        let given = matches!(matches.value_source(&entry.id), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
        let Some(long) = arg.get_long() else { continue };
        if given {
            continue;
        }
        for value in &entry.values {
            if matches!(arg.get_action(), ArgAction::SetTrue) {
                if value == "true" {
                    out.push(OsString::from(format!("--{long}")));
                }
            } else {
                out.push(OsString::from(format!("--{long}={value}")));
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Clap(clap::Error),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    File(Vec<ConfigError>),
}

/// `plenum config example`: every option of `plenum serve` with its help, environment variable and default, as a
/// commented TOML file.
pub fn example() -> String {
    let serve = serve_command();
    let mut out = String::from(
        "# plenum.toml: every option of `plenum serve`, with its default (generated by `plenum config example`).\n\
         # Use it with `plenum serve --config /etc/plenum/plenum.toml` (or PLENUM_CONFIG). The command line wins over\n\
         # the environment variable, which wins over this file. Check a file with `plenum config check FILE`.\n\
         # Secrets: prefer `secret_file` (a file readable only by plenum) over `secret`.\n",
    );
    for arg in serve.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_IN_FILE.contains(&id) {
            continue;
        }
        let help = arg.get_long_help().or(arg.get_help()).map(|h| h.to_string()).unwrap_or_default();
        out.push('\n');
        for line in help.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
        let long = arg.get_long().unwrap_or(id);
        let _ = writeln!(out, "# flag: --{long}{}", env.map(|e| format!(", env: {e}")).unwrap_or_default());
        let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        let line = match (defaults.first(), arg.get_action()) {
            (_, ArgAction::SetTrue) => format!("#{id} = false"),
            (Some(d), _) => format!("#{id} = {}", toml_value(d)),
            (None, ArgAction::Append) => format!("#{id} = []  # not set by default"),
            (None, _) => format!("#{id} = \"\"  # not set by default"),
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

fn toml_value(v: &str) -> String {
    if v.parse::<i64>().is_ok() || v == "true" || v == "false" { v.to_owned() } else { format!("{v:?}") }
}

mod checks;
#[cfg(test)]
mod tests;
