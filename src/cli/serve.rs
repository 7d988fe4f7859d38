//! `escc serve` and its subcommands: the HTTP server, tokens, import and the audit log
//! (`crate::serve` does the work; docs/serve.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::Failure;
use crate::serve::{self, Options, Settings, Store, auth, time};

/// `escc serve ...`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ServeArgs {
    #[command(subcommand)]
    command: Option<ServeCommand>,
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        conflicts_with = "database",
        help = "The directory of the SQLite database (created when missing, mode 0700)"
    )]
    data: Option<PathBuf>,
    #[arg(
        long,
        global = true,
        value_name = "URL",
        help = "A PostgreSQL database instead, shared by replicas: \
                postgres://USER[:PASSWORD]@HOST[:PORT]/DB [default: $ESCC_DATABASE]; without \
                a password in it, $PGPASSWORD"
    )]
    database: Option<String>,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: String,
    /// The organization served (ESC's org/project/env; SDKs require 3 to 40 characters).
    #[arg(long, default_value = "default", value_name = "ORG")]
    org: String,
    /// The largest request body, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    max_body: usize,
    /// How many environments may be opened at once (more get 429).
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_opens: usize,
    /// The session lifetime when a client asks for none (Go duration, ESC's default 1h).
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    session: String,
    #[arg(
        long,
        default_value_t = 8,
        value_name = "N",
        help = "PostgreSQL connections at most per server (SQLite uses one)"
    )]
    connections: usize,
    /// The longest session a client may ask for.
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    max_session: String,
    /// On SIGTERM or SIGINT, how long requests in flight may take to finish; then the
    /// server exits anyway (a hung client cannot keep it running).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    shutdown_grace: String,
}

#[derive(Debug, Subcommand)]
enum ServeCommand {
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import the environments of a project directory (new revisions for changed ones).
    #[command(
        long_about = "Import the environments of the project at DIR into the database: each \
environment whose text differs from its latest revision gets a new revision; the others are \
left alone, so importing again changes nothing. escc.toml is imported too (context, \
encryption recipients, endpoints); restart the server to use a changed one. Only PROJECT/ENV \
names are served (ESC's two levels); others are skipped with a warning.",
        after_help = "Examples:
  escc serve import ./environments --data /var/lib/escc
  git pull && escc serve import . --data /var/lib/escc     files stay the source of truth"
    )]
    Import {
        /// The project directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Write the latest definitions back to a project directory (and escc.toml).
    #[command(
        long_about = "Write the latest definition of every environment to DIR/PROJECT/ENV.yaml, \
and the imported escc.toml to DIR/escc.toml, each atomically (a temporary file in the same \
folder, renamed over the old one), so that changes made through the API can be committed to \
git. Definitions are written as stored: age ciphertexts stay ciphertexts. Files of DIR that \
name no stored environment are left alone. Importing the exported directory changes nothing.",
        after_help = "Examples:
  escc serve export ./environments --data /var/lib/escc && git -C environments diff
  escc serve export . --data /var/lib/escc && git commit -am 'changes made through the API'"
    )]
    Export {
        /// The project directory (created when missing).
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Print the audit log as JSON lines, oldest first.
    #[command(after_help = "Examples:
  escc serve audit --data /var/lib/escc
  escc serve audit --data /var/lib/escc --after 1200 | jq 'select(.action==\"open\")'")]
    Audit {
        /// Only the records after this sequence number.
        #[arg(long, default_value_t = 0, value_name = "ID")]
        after: i64,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, as the last line (only its hash is stored).
    #[command(
        long_about = "Create a token named NAME (who, in the audit log) with a role: reader \
(list, get definitions, version history), opener (and open environments, read their \
secrets, decrypt definitions), editor (and create, update, delete), admin (all). The scope \
limits which environments it reaches: ORG[/PROJECT[/ENV]] with * wildcards, ** for the \
rest. The token is printed once, on the last line of output; the database keeps only its \
SHA-256.",
        after_help = "Examples:
  escc serve token create ci --role opener --scope 'default/app/*' --data /var/lib/escc
  escc serve token create eso --role opener --expires 720h --data /var/lib/escc | tail -1"
    )]
    Create {
        /// Its name.
        #[arg(value_name = "NAME")]
        name: String,
        /// reader, opener, editor or admin.
        #[arg(long)]
        role: String,
        /// The environments it reaches.
        #[arg(long, default_value = "*", value_name = "PATTERN")]
        scope: String,
        /// It stops working after this long (Go duration, e.g. 720h) [default: never].
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// Revoke the token named NAME.
    Revoke {
        /// Its name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// Opens the database: `--data DIR` (`SQLite`), else `--database URL` or `$ESCC_DATABASE`
/// (PostgreSQL). Messages name a PostgreSQL database without its password.
fn open_store(args: &ServeArgs) -> Result<Store, Failure> {
    let env = std::env::var("ESCC_DATABASE")
        .ok()
        .filter(|u| !u.is_empty());
    match (&args.data, args.database.as_ref().or(env.as_ref())) {
        (Some(data), _) => Store::open(data).map_err(|e| open_failed(data, &e)),
        (None, Some(url)) => Store::connect(url).map_err(Failure::new),
        (None, None) => Err(Failure::new(
            "--data DIR or --database postgres://... is required: where the server's \
             database is"
                .to_owned(),
        )),
    }
}

fn open_failed(data: &Path, e: &str) -> Failure {
    Failure::new(format!("{}: {e}", data.display()))
}

/// Runs `escc serve` or one of its subcommands.
pub(crate) fn serve(args: &ServeArgs) -> Result<ExitCode, Failure> {
    let mut store = open_store(args)?;
    let who = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    match &args.command {
        Some(ServeCommand::Token(TokenCommand::Create {
            name,
            role,
            scope,
            expires,
        })) => {
            let role = auth::Role::parse(role).map_err(Failure::new)?;
            auth::check_scope(scope).map_err(Failure::new)?;
            if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
                return Err(Failure::new(format!("invalid token name {name:?}")));
            }
            let expires = match expires {
                Some(d) => Some(time::now() + time::parse_duration(d).map_err(Failure::new)?),
                None => None,
            };
            let token = auth::new_token().map_err(Failure::new)?;
            let row = serve::store::TokenRow {
                name: name.clone(),
                role: role.name().to_owned(),
                scope: scope.clone(),
                expires,
            };
            store
                .add_token(&auth::hash(&token), &row, time::now())
                .map_err(Failure::new)?;
            let _ = store.audit(time::now(), &who, "token-create", name, "cli", "ok");
            super::note(&format!(
                "created token {name:?} (role {}, scope {scope}{}); it is shown once:",
                role.name(),
                expires.map_or_else(String::new, |e| format!(", expires {}", time::rfc3339(e)))
            ));
            super::print(&format!("{token}\n"))?;
        }
        Some(ServeCommand::Token(TokenCommand::Revoke { name })) => {
            let found = store.revoke_token(name).map_err(Failure::new)?;
            let _ = store.audit(
                time::now(),
                &who,
                "token-revoke",
                name,
                "cli",
                if found { "ok" } else { "404 no such token" },
            );
            if !found {
                return Err(Failure::new(format!("no token is named {name:?}")));
            }
            super::note(&format!("revoked token {name:?}"));
        }
        Some(ServeCommand::Import { dir }) => {
            let done = serve::import(&mut store, dir, &who).map_err(Failure::new)?;
            for (name, why) in &done.skipped {
                super::warn(&format!("skipped {name}: {why}"));
            }
            for name in &done.changed {
                let _ = store.audit(time::now(), &who, "import", name, "cli", "ok");
            }
            super::note(&format!(
                "imported {} environment(s) changed, {} unchanged, {} skipped",
                done.changed.len(),
                done.unchanged,
                done.skipped.len()
            ));
        }
        Some(ServeCommand::Export { dir }) => {
            let files = serve::export_files(&mut store).map_err(Failure::new)?;
            for (rel, text) in &files {
                let file = dir.join(rel);
                let shown = file.display().to_string();
                if let Some(parent) = file.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        Failure::new(format!(
                            "{}: {}",
                            parent.display(),
                            crate::project::io_text(&e)
                        ))
                    })?;
                }
                super::secrets::replace_file(&file, &shown, text.as_bytes())?;
            }
            let _ = store.audit(
                time::now(),
                &who,
                "export",
                &dir.display().to_string(),
                "cli",
                "ok",
            );
            super::note(&format!(
                "exported {} environment(s) and escc.toml to {}",
                files.len() - 1,
                dir.display()
            ));
        }
        Some(ServeCommand::Audit { after }) => {
            let mut out = String::new();
            for row in store.audit_log(*after).map_err(Failure::new)? {
                out.push_str(&serde_json::to_string(&row).unwrap_or_default());
                out.push('\n');
            }
            super::print(&out)?;
        }
        None => {
            let session = time::parse_duration(&args.session)
                .map_err(|e| Failure::new(format!("--session: {e}")))?;
            let max_session = time::parse_duration(&args.max_session)
                .map_err(|e| Failure::new(format!("--max-session: {e}")))?;
            let org = &args.org;
            if org.len() < 3
                || org.len() > 40
                || !org
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(Failure::new(format!(
                    "--org {org:?}: 3 to 40 letters, digits, '-', '_' or '.' (the SDKs check)"
                )));
            }
            let (ids, warnings) =
                crate::project::keys::identities_from_env().map_err(Failure::new)?;
            for w in &warnings {
                super::warn(w);
            }
            let server = serve::Server::new(
                store,
                Settings {
                    org: org.clone(),
                    default_session: session,
                    max_session: max_session.max(session),
                    max_opens: args.max_opens.max(1),
                    connections: args.connections.max(1),
                },
                ids,
                Box::new(|line| {
                    let _ = super::print(&format!("{line}\n"));
                }),
            )
            .map_err(Failure::new)?;
            let grace = time::parse_duration(&args.shutdown_grace)
                .map_err(|e| Failure::new(format!("--shutdown-grace: {e}")))?;
            let options = Options {
                listen: args.listen.clone(),
                max_body: args.max_body,
                shutdown_grace: std::time::Duration::from_secs(grace.unsigned_abs()),
            };
            serve::run(server, &options, |addr| {
                super::note(&format!("serving the ESC API on http://{addr}/api/esc"));
            })
            .map_err(Failure::new)?;
            super::note("stopped");
        }
    }
    Ok(ExitCode::SUCCESS)
}
