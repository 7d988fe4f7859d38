//! The `escc` command line: `check`, `get`, `open`, `run`, `graph`, `encrypt`, `rekey`,
//! `rotate` and `secret set` over a directory of environments. Projects, files and the check/evaluate pipeline are the library's
//! (`crate::project`); `project.rs` is how the command line finds and names them, and
//! `evaluate.rs` how it runs the pipeline.

mod check;
mod diff_driver;
mod edit;
mod evaluate;
mod export;
mod format;
mod get;
mod graph;
mod lookup;
mod merge_driver;
mod project;
pub(crate) mod render;
mod rotate;
mod run;
mod secrets;
mod serve;
mod versions;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use check::CheckFormat;
use format::ValueFormat;
use get::GetArgs;
use graph::GraphFormat;
use project::Project;
use run::{Finish, RunArgs};

/// Exit status: the environments have errors (or warnings with `--deny-warnings`).
const EXIT_FAILED: u8 = 1;
/// Exit status: bad usage, or a file that cannot be read.
const EXIT_USAGE: u8 = 2;

/// escc: check and evaluate Pulumi ESC environments kept as files, offline.
#[derive(Debug, Parser)]
#[command(
    name = "escc",
    version,
    about,
    long_about = "escc reads Pulumi ESC environments from a directory of YAML files (a project), \
offline. An environment's name is its path below the project root without .yaml/.yml: \
app/dev is app/dev.yaml. The root is --root, else the nearest directory holding escc.toml, \
else the current directory.",
    after_help = "Examples:
  escc check                          check every environment of the project
  escc get app/dev                    the environment's values, secrets redacted
  escc get app/dev@v1.4               the same at git tag v1.4 (see docs/versions.md)
  escc diff app/dev@HEAD~1            what changed since the last commit
  escc tag app/dev@HEAD stable        an environment tag (git tag escc/app/dev@stable)
  escc rollback app/dev@stable        write that revision back to app/dev.yaml
  escc open app/dev --format dotenv   open it (providers run) as KEY=\"value\" lines
  escc run app/dev -- ./deploy.sh     run a command with its environmentVariables and files
  escc graph app/prod | dot -Tsvg     what app/prod depends on
  escc secret set app/prod db.password   set a secret, encrypted with age (value on stdin)
  escc encrypt                        encrypt every plaintext fn::secret in place
  escc rekey                          re-encrypt to the current recipients (after a change)
  escc edit app/prod                  edit with the secrets decrypted, in $EDITOR
  escc rotate app/prod                rotate its credentials, writing the new states encrypted

Exit status: 0 success; 1 the environment has errors (check: errors, or warnings with \
--deny-warnings); 2 bad usage or a file that cannot be read. `run` exits with the command's \
status."
)]
struct Cli {
    /// The project root [default: the nearest directory holding escc.toml, else the current
    /// directory].
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Sets a value of the execution context (`context.*` in documents), overriding
    /// escc.toml; repeatable. Example: --context pulumi.user.login=alice
    #[arg(long = "context", global = true, value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Whether the plugins of `escc.toml` may run.
    #[arg(
        long,
        global = true,
        help = "Runs the provider plugins escc.toml configures ([providers.NAME] command = ...); \
without it they do not run, so checking a repository never runs a command it configures. \
Also ESCC_ALLOW_PLUGINS=1. Plugins on PATH always run"
    )]
    allow_plugins: bool,
    /// Whether providers may reach the network.
    #[arg(
        long,
        global = true,
        help = "Refuses the network to providers: one that would call a server fails naming \
it, and plugins are not run to open (they may reach the network). Credentials given as \
inputs (aws-login static) still open. Also ESCC_OFFLINE=1"
    )]
    offline: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check environments for errors, statically (providers are not opened).
    #[command(
        long_about = "Check environments for errors: load each one, resolve its imports and \
references, and check it statically. Providers are not opened; their results are unknown.\n\n\
Each argument is an environment file, a directory (searched for .yaml and .yml files), or an \
environment name. With no argument, every environment of the project is checked.",
        after_help = "Examples:
  escc check                                  every environment of the project
  escc check app/dev app/prod                 two environments, by name
  escc check environments/ --deny-warnings    a directory; warnings fail too
  escc check --format github                  annotations for a GitHub Actions job
  escc check --format sarif > escc.sarif      for GitHub code scanning

Exit status: 0 no errors; 1 errors (or warnings with --deny-warnings); 2 bad usage or a file \
that cannot be read."
    )]
    Check {
        /// Environment names, files or directories [default: the whole project].
        #[arg(value_name = "NAME|PATH")]
        targets: Vec<String>,
        /// How to report.
        #[arg(long, short = 'f', value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Fail on warnings too (also `deny-warnings = true` under [defaults] in escc.toml).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Show an environment's values, statically: providers are not opened ([unknown]).
    #[command(
        long_about = "Show an environment's values, statically: providers are not opened, so \
their results print as [unknown]. Secrets print as [secret] unless --show-secrets. With a \
property PATH (e.g. database.host or tags[0]), only that value is shown.",
        after_help = "Examples:
  escc get app/dev
  escc get app/dev database.host --format string
  escc get app/dev --format yaml --show-secrets
  escc get app/dev --format dotenv

An environment with errors prints its diagnostics on stderr and exits with status 1."
    )]
    Get(ValueArgs),
    /// Open an environment (providers run) and show its values.
    #[command(
        long_about = "Open an environment: evaluate it with its providers opened, and show its \
values. Secrets print as [secret] unless --show-secrets. Providers are ESC's built-in ones \
(AWS, Vault, GCP, Azure, Doppler, Infisical and 1Password through op open; the others fail \
naming themselves) and plugins (escc-provider-NAME on PATH, or [providers.NAME] in \
escc.toml); see docs/providers.md. Identical opens are made once; on a terminal, a line on \
stderr names the providers still opening after a second.",
        after_help = "Examples:
  escc open app/dev
  escc open app/dev --format shell --show-secrets > .env.sh
  escc open app/dev environmentVariables --format json
  escc open app/dev --offline           no network: fails at the first provider that needs it
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 escc open app/dev    AWS at a local server

An environment with errors prints its diagnostics on stderr and exits with status 1. With \
--format dotenv or shell, `files` are written to 0600 temporary files that are kept (their \
paths are printed); a secret file is written only with --show-secrets."
    )]
    Open(ValueArgs),
    /// Run a command with an environment's variables and files.
    #[command(
        long_about = "Open an environment and run a command with its environmentVariables set \
and its files written to 0600 temporary files (each variable holds its file's path). The \
files are removed when the command ends. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to escc are \
passed on to the command (except Ctrl-C and Ctrl-\\ typed at a terminal, which reach it \
directly), so they end it and escc cleans up. ${path} references in the command's arguments \
are replaced by values of the environment ($$ is a literal $). There is no shell: use \
`sh -c '...'` for pipes and $VARS. Secret values in the command's output are replaced by \
[secret] line by line, unless --interactive.",
        after_help = "Examples:
  escc run app/dev -- ./migrate.sh
  escc run app/dev -- psql '${database.host}'
  escc run app/dev -- sh -c 'echo $STAGE'
  escc run app/dev -i -- bash
  escc run app/dev --offline -- ./test.sh   no provider reaches the network

Exit status: the command's (a command killed by a signal makes escc die of the same signal); \
127 when the command is not found; 1 when the environment has errors (its diagnostics are \
printed and the command is not run); 2 bad usage."
    )]
    Run {
        /// The environment [default: defaults.environment in escc.toml].
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// Do not filter the command's output (secrets are not masked; the command sees
        /// the terminal).
        #[arg(long, short = 'i')]
        interactive: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Export an environment for Kubernetes, GitHub Actions, Docker, Terraform, direnv...
    #[command(
        long_about = "Open an environment as `escc open` does (providers run, secrets \
decrypted) and write its environmentVariables (and files, for the targets that run on this \
machine) in a consumer's syntax, secrets in plaintext where the target carries them: \
shell, dotenv, direnv, fish, powershell, systemd (EnvironmentFile), docker (--env-file), \
github-actions (::add-mask:: for every secret, then $GITHUB_ENV), k8s-secret and \
k8s-configmap (manifests; secrets never go to a ConfigMap), tfvars and tfvars-json \
(Terraform/OpenTofu variables from pulumiConfig or --path). A value or key that the target \
cannot hold is an error naming it, never a silent change; docs/export.md gives each \
target's rules.",
        after_help = "Examples:
  eval \"$(escc export app/dev --target shell)\"
  escc export app/dev --target fish | source
  escc export app/dev --target docker > app.env && docker run --env-file app.env image
  escc export app/prod --target k8s-secret --target k8s-configmap --namespace prod | kubectl apply -f -
  escc export app/ci --target github-actions --outputs     (in a workflow step)
  escc export app/prod --target tfvars > prod.auto.tfvars
  escc export app/prod --target tfvars-json --path infra.vars > prod.auto.tfvars.json
  escc export app/dev --target systemd > /etc/app/env      (EnvironmentFile=/etc/app/env)
  .envrc:  eval \"$(escc export app/dev --target direnv)\"    (re-evaluated when a file it read changes)"
    )]
    Export {
        /// The environment name (app/dev) or file [default: defaults.environment in
        /// escc.toml].
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// What to write; k8s-secret and k8s-configmap may be given together (repeat the
        /// flag or separate with commas).
        #[arg(long, short = 't', value_enum, required = true, value_delimiter = ',')]
        target: Vec<export::Target>,
        /// The name of the Kubernetes objects [default: the environment's name, `/` as `-`].
        #[arg(long = "name", value_name = "NAME")]
        k8s_name: Option<String>,
        /// The namespace of the Kubernetes objects [default: none, kubectl's current one].
        #[arg(long, value_name = "NAMESPACE")]
        namespace: Option<String>,
        /// github-actions: also write the variables as step outputs to `$GITHUB_OUTPUT`.
        #[arg(long)]
        outputs: bool,
        /// tfvars: the object of variables to export [default: pulumiConfig].
        #[arg(long, value_name = "PATH")]
        path: Option<String>,
    },
    /// Draw the import and reference dependencies between environments.
    #[command(
        long_about = "Draw the dependencies between environments: imports (solid) and \
references (dashed: ${environments.P.E...}, ${imports[\"x\"]...}, and references whose value \
comes from an imported environment). With NAME, what that environment depends on; without, \
the whole project.",
        after_help = "Examples:
  escc graph app/prod
  escc graph app/prod | dot -Tsvg > deps.svg
  escc graph --format mermaid >> README.md"
    )]
    Graph {
        /// The environment [default: every environment of the project].
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Print the JSON Schema of environment documents, for editors.
    #[command(
        long_about = "Print the JSON Schema (draft-07) of environment documents: imports \
(pinned ones too), values, every builtin with its argument, and the inputs of the built-in \
providers and rotators with their descriptions. Editors that use the Red Hat YAML language \
server (VS Code's YAML extension, Neovim, Helix, Zed) complete, describe and check documents \
with it: put `# yaml-language-server: $schema=PATH` on the first line of a document, or map \
the schema to your environment files in the editor's settings. The repository publishes it \
as schema/environment.schema.json. See docs/schema.md.",
        after_help = "Examples:
  escc schema > environment.schema.json
  escc schema > .vscode/escc.schema.json    then map it to environments/**/*.yaml"
    )]
    Schema,
    /// List an environment's revisions in git, newest first.
    #[command(
        long_about = "List the revisions of an environment: the commits of HEAD's first-parent \
line that changed its file (NAME.yaml or NAME.yml), newest first, so a merge that changed it \
is one revision and merging never renumbers. Each line is ESC's revision number (1 for the \
oldest; NAME@3 names it), the commit, the author date, the author and the subject. Renames \
are not followed: when the oldest revision renamed the file, a note names the old one. See \
docs/versions.md.",
        after_help = "Examples:
  escc history app/dev
  escc history app/dev --format json
  escc get app/dev@3                  the values at revision 3"
    )]
    History {
        /// The environment name (app/dev) or file.
        #[arg(value_name = "NAME")]
        name: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = versions::HistoryFormat::Human)]
        format: versions::HistoryFormat,
    },
    /// Show what changed in an environment's values between two revisions.
    #[command(
        long_about = "Compare the values of an environment at two revisions, statically \
(providers are not opened): each added (+), removed (-) and changed (~) document path. A \
secret is never shown: a changed secret is reported as `[secret] changed`. With \
--definition, a unified diff of the two YAML definitions instead, each fn::secret argument \
(plaintext or ciphertext) shown as [secret], and as [secret changed] on the second side when \
it is written differently at the same path. The second side defaults to the working tree \
(NAME@latest). REV is a git revision (commit, tag, branch, HEAD~2), an environment tag (escc \
tags) or ESC's revision number (escc history). See docs/versions.md.",
        after_help = "Examples:
  escc diff app/dev@HEAD~1              the last commit against the working tree
  escc diff app/dev@v1.4 app/dev@v1.5   two tags
  escc diff app/dev@2 app/dev@3         two revision numbers
  escc diff app/dev@HEAD --definition   the YAML, secrets hidden"
    )]
    Diff {
        /// The first side, NAME@REV.
        #[arg(value_name = "NAME@A")]
        a: String,
        /// The second side [default: the working tree of the same environment].
        #[arg(value_name = "NAME@B")]
        b: Option<String>,
        /// Compare the definitions (the YAML), as a unified diff, instead of the values.
        #[arg(long)]
        definition: bool,
    },
    /// Tag a revision of an environment (a git tag escc/NAME@TAG).
    #[command(
        long_about = "Set environment tag TAG of NAME to revision REV: the lightweight git tag \
escc/NAME@TAG, which `git push --tags` shares. NAME@TAG then names that revision wherever a \
revision is taken (get, open, run, check, diff, rollback, imports: [NAME@TAG]); an environment \
tag wins over a git branch or tag of the same name. Without @REV (or with @latest), HEAD, if \
the environment's file has no uncommitted changes. A tag starts with a letter and holds \
letters, digits, '.', '_' and '-' (not latest, which is the working tree). An existing tag is \
moved only with --force. See docs/versions.md.",
        after_help = "Examples:
  escc tag app/prod@HEAD stable        tag the last commit
  escc tag app/prod@3 v1.2             tag ESC revision 3
  escc tag app/prod@HEAD prod --force  move the tag
  escc tag --delete app/prod prod      delete it
  escc get app/prod@stable             the values at the tag
  git push --tags                      share the tags"
    )]
    Tag {
        /// The environment and the revision to tag (NAME@REV); with --delete, NAME.
        #[arg(value_name = "NAME@REV")]
        spec: String,
        /// The tag.
        #[arg(value_name = "TAG")]
        tag: String,
        /// Move the tag if it names another revision.
        #[arg(long)]
        force: bool,
        /// Delete the tag instead.
        #[arg(long, conflicts_with = "force")]
        delete: bool,
    },
    /// List an environment's tags.
    #[command(
        long_about = "List the tags of an environment (git tags escc/NAME@TAG), sorted by name: \
the tag, ESC's revision number in effect at its commit (- when the commit is not on HEAD's \
first-parent line), the commit, its author date and subject.",
        after_help = "Examples:
  escc tags app/prod
  escc tags app/prod --format json"
    )]
    Tags {
        /// The environment name (app/dev) or file.
        #[arg(value_name = "NAME")]
        name: String,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = versions::HistoryFormat::Human)]
        format: versions::HistoryFormat,
    },
    /// Write an earlier revision's definition to the working tree (not a commit).
    #[command(
        long_about = "Write the definition of NAME at revision REV to its file in the working \
tree, atomically; review it and commit it yourself (ESC's rollback makes a new revision: \
here the commit is that revision). Refuses when the file has uncommitted changes (changed, \
staged or untracked), unless --force. When the working tree has the file under the other \
extension (.yml for .yaml), that file is removed.",
        after_help = "Examples:
  escc rollback app/prod@HEAD~1            the previous commit's definition
  escc rollback app/prod@stable            the tagged one
  escc rollback app/prod@3 --force         discarding uncommitted changes

Exit status: 0 written (or already there); 2 refused or failed, nothing written."
    )]
    Rollback {
        /// The environment and the revision to write back (NAME@REV).
        #[arg(value_name = "NAME@REV")]
        spec: String,
        /// Overwrite uncommitted changes to the file.
        #[arg(long)]
        force: bool,
    },
    /// Encrypt plaintext secrets in place, with age.
    #[command(
        long_about = "Encrypt every plaintext `fn::secret` value of the named environments (all \
of the project's without NAME) in place: `fn::secret: hunter2` becomes `fn::secret: \
{ciphertext: BASE64}`, where BASE64 is a standard age file (`base64 -d | age -d -i KEY` \
decrypts it). Only those values' bytes change: comments, layout and the other values stay as \
written, and ciphertexts are left alone, so running it again changes nothing. The recipients \
are [encryption] recipients in escc.toml (or a folder's, under [encryption.folders.DIR]). \
Encrypting what none of your identities could decrypt is refused unless --force (see `escc \
secret set --help` for where identities come from).",
        after_help = "Examples:
  escc encrypt                  every environment of the project
  escc encrypt app/prod         one environment
  escc check --deny-warnings    in CI: a plaintext fn::secret is a warning (plaintext-secret)

escc.toml:
  [encryption]
  recipients = [\"age1...\", \"ssh-ed25519 AAAA... alice@laptop\"]"
    )]
    Encrypt {
        /// Environment names, files or directories [default: the whole project].
        #[arg(value_name = "NAME|PATH")]
        targets: Vec<String>,
        /// Encrypt even when none of your identities is a recipient.
        #[arg(long)]
        force: bool,
    },
    /// Re-encrypt secrets to the current recipients (someone joined or left).
    #[command(
        long_about = "Re-encrypt the age ciphertexts of the named environments (all of the \
project's without NAME) to the recipients escc.toml now gives them, after someone joined or \
left. Only values encrypted to another set of recipients change: escc records each value's \
recipient set in its age header (a stanza age ignores), so the others keep their bytes and \
running it again changes nothing. A value without that record (written by `age`, or by an \
older escc) is re-encrypted once. Decrypting needs your identity (see `escc secret set \
--help`); re-encrypting to recipients none of your identities is among is refused unless \
--force. Every file is rewritten atomically, and only after every value of every named \
environment was re-encrypted: on any failure nothing is written. Plaintexts are left to \
`escc encrypt`; ESC's own ciphertexts (not age) are left as they are.",
        after_help = "Examples:
  escc rekey                    every environment of the project
  escc rekey app/prod           one environment
  escc rekey prod/              a folder

After removing someone from [encryption] recipients, rekey and commit; they can still read \
the values in git's history, so rotate what they could read."
    )]
    Rekey {
        /// Environment names, files or directories [default: the whole project].
        #[arg(value_name = "NAME|PATH")]
        targets: Vec<String>,
        /// Re-encrypt even when none of your identities is a recipient.
        #[arg(long)]
        force: bool,
    },
    /// Rotate an environment's credentials (`fn::rotate`) and write the new states back.
    #[command(
        long_about = "Rotate the credentials of environment NAME: run each of its fn::rotate \
calls (or those at the given PATHs, below `values`), then write each new state into the \
file, at the call's `state`, its secrets encrypted with age to the environment's recipients \
([encryption] in escc.toml), everything else as written. The file is written once, \
atomically, and only when every selected rotation succeeded; when one fails nothing is \
written, and escc says which credentials did change on their servers and what that leaves \
behind (the database rotators' current credentials keep working; an aws-iam key created for \
nothing must be deleted). Built-in rotators: aws-iam, postgres, mysql; plugins serve others \
(see docs/providers.md). Imported environments are evaluated but never rotated. Needs your \
age identity, as `escc secret set` does (see its --help). See docs/rotation.md for the \
state machine and for scheduling (cron, a systemd timer, a GitHub Actions schedule).",
        after_help = "Examples:
  escc rotate app/prod                       every fn::rotate of app/prod
  escc rotate app/prod db                    only the one at values.db
  escc rotate app/prod --dry-run             what would rotate (nothing is opened or changed)
  escc rotate app/prod && git commit -am 'Rotate app/prod credentials'

Exit status: 0 every rotation succeeded and was written; 1 a rotation failed (nothing was \
written) or the environment has errors; 2 bad usage, or what rotating needs is missing \
(recipients, an identity)."
    )]
    Rotate {
        /// The environment name (app/prod) or file.
        #[arg(value_name = "NAME")]
        name: String,
        /// Only the `fn::rotate` calls at these paths, below `values` (db, creds.iam).
        #[arg(value_name = "PATH")]
        paths: Vec<String>,
        /// Show what would rotate, after a static check; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Encrypt even when none of your identities is a recipient.
        #[arg(long)]
        force: bool,
    },
    /// Set secret values, encrypted with age.
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Edit an environment with its secrets decrypted, in your editor.
    #[command(
        long_about = "Open environment NAME in your editor with its age ciphertexts decrypted: \
each `fn::secret: {ciphertext: ...}` shows as `fn::secret: \"plaintext\"`. When the editor \
exits, the file is written back: a secret whose value did not change keeps its ciphertext \
byte for byte, a changed or new `fn::secret` is encrypted to the recipients in escc.toml, and \
everything else is as you left it. So changing one secret changes one line of the diff. A \
plaintext fn::secret that was already in the file and that you did not change stays as it is \
(`escc encrypt` encrypts those).\n\n\
The editor is $VISUAL, else $EDITOR, else vi (as git chooses; VISUAL and vi are not used when \
TERM is dumb or not set). The copy is a 0600 file in a private directory of $TMPDIR, removed \
when escc ends, also when escc is interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT: passed on to \
the editor, then escc removes the copy and dies of the signal). The file is not written when \
the editor fails (exits with a non-zero status), when the copy no longer loads as an \
environment (said with its line and column; at a terminal you are asked whether to edit it \
again), or when the file changed on disk meanwhile. It is written atomically.\n\n\
Decrypting needs your identity (see `escc secret set --help`); encrypting to recipients none \
of your identities is among is refused unless --force. A ciphertext you cannot decrypt stays \
encrypted in the copy (a warning names it).",
        after_help = "Examples:
  escc edit app/prod
  EDITOR='code --wait' escc edit app/prod
  EDITOR=nano escc edit environments/app/prod.yaml

Your editor may keep copies of what it edits elsewhere (vim's undofile and backupdir, \
emacs's auto-save): see docs/secrets.md."
    )]
    Edit {
        /// The environment name (app/prod) or file.
        #[arg(value_name = "NAME")]
        name: String,
        /// Encrypt even when none of your identities is a recipient.
        #[arg(long)]
        force: bool,
    },
    /// git's diff driver for environment files: which secrets changed, never their values.
    #[command(
        long_about = "Run by git as an external diff driver (diff.escc.command), with the \
arguments git gives one: PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE. It prints \
one line per secret that was added, removed or changed (by path), then the line diff of the \
file with every secret's value (plaintext or ciphertext) replaced by [secret] ([secret, \
changed] on the new side of a changed one). A side that does not load as an environment is \
not shown when it mentions fn::secret. It needs no identity and decrypts nothing. See \
docs/secrets.md.",
        after_help = "Set up (once per clone; the .gitattributes line is committed):
  echo '*.yaml diff=escc' >> .gitattributes
  git config diff.escc.command 'escc diff-driver'

Then git diff uses it; git log -p and git show need --ext-diff."
    )]
    DiffDriver {
        /// The arguments git passes.
        #[arg(
            value_name = "GIT-ARGS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<String>,
    },
    /// git's merge driver for environment files: secrets merge by path, never decrypted.
    #[command(
        long_about = "Run by git as a merge driver (merge.escc.driver) for files marked \
`merge=escc` in .gitattributes, with the common ancestor's version BASE, the current one \
CURRENT (where the result is written) and the other branch's OTHER. Each secret is merged by \
its path below `values`: changed on one side, that side's value is taken; changed on both \
sides alike, taken once; changed differently on both sides, added on both with different \
values, or removed on one side and changed on the other, a conflict. The rest of the file is \
merged line by line by `git merge-file`, with the secrets' values masked, so two branches \
that change secrets on neighbouring lines merge cleanly. A conflict is written with git's \
markers around the secret's line, each side showing its own ciphertext (a plaintext \
fn::secret literal shows as the file has it): escc decrypts nothing and needs no identity. \
When a version does not load as an environment, or the result would not read back, the \
file is merged as git does without the driver; so it is whenever git's own merge is clean \
and escc's is not. Exit status: 0 merged cleanly, 1 conflicts, 2 a file could not be read \
or written (CURRENT is then left as it was). See docs/secrets.md.",
        after_help = "Set up (once per clone; the .gitattributes line is committed):
  echo '*.yaml merge=escc' >> .gitattributes
  git config merge.escc.name 'escc: secrets merged by path'
  git config merge.escc.driver 'escc merge-driver --marker-size %L %O %A %B %P'

With git 2.44 or later, add the conflict labels: ... -L %X -L %S -L %Y %O %A %B %P"
    )]
    MergeDriver {
        /// The common ancestor's version (git's %O).
        #[arg(value_name = "BASE")]
        base: PathBuf,
        /// The current branch's version (%A); the result replaces it.
        #[arg(value_name = "CURRENT")]
        current: PathBuf,
        /// The other branch's version (%B).
        #[arg(value_name = "OTHER")]
        other: PathBuf,
        /// The file's path in the repository (%P), to name it in messages.
        #[arg(value_name = "PATH")]
        path: Option<String>,
        /// The length of conflict markers (%L).
        #[arg(long, value_name = "N", default_value_t = 7,
              value_parser = clap::value_parser!(u16).range(1..))]
        marker_size: u16,
        /// A conflict label, as git merge-file's -L: the current, the base, then the other
        /// (%X, %S, %Y) [default: ours, base, theirs].
        #[arg(short = 'L', long = "label", value_name = "LABEL", action = clap::ArgAction::Append)]
        labels: Vec<String>,
    },
    /// Serve the ESC HTTP API (the esc CLI, the SDKs, the External Secrets Operator).
    #[command(
        long_about = "Serve the Pulumi ESC HTTP API over environments kept in a SQLite database \
under --data DIR (or a PostgreSQL database, --database URL, shared by replicas), for the esc CLI, the Python, TypeScript and Go SDKs and the External \
Secrets Operator. Environments are evaluated as escc open does (providers run, age \
ciphertexts decrypted with the server's identity: ESCC_AGE_IDENTITY or \
ESCC_AGE_IDENTITY_FILE). Every request needs a token (escc serve token create). SIGINT and \
SIGTERM stop it after the requests in flight. Audit records are printed on stdout as JSON \
lines, request logs on stderr. See docs/serve.md.",
        after_help = "Examples:
  escc serve import ./environments --data /var/lib/escc
  escc serve token create ci --role opener --data /var/lib/escc
  escc serve --listen 127.0.0.1:8080 --data /var/lib/escc
  ESCC_DATABASE=postgres://escc@db/escc PGPASSWORD=... escc serve --listen 10.0.0.5:8080
  PULUMI_BACKEND_URL=http://127.0.0.1:8080 PULUMI_ACCESS_TOKEN=escc_... python app.py"
    )]
    Serve(serve::ServeArgs),
    /// Serve the Language Server Protocol on stdin/stdout, for editors (see docs/lsp.md).
    #[cfg(feature = "lsp")]
    Lsp {
        /// Accepted for clients that pass it; stdio is the only transport.
        #[arg(long, hide = true)]
        stdio: bool,
    },
}

/// `escc secret ...`.
#[derive(Debug, Subcommand)]
enum SecretCommand {
    /// Set the value at PATH of an environment, encrypted, in place.
    #[command(
        long_about = "Set the value at PATH (below `values`, e.g. db.password) of environment \
NAME to a secret, encrypted with age to the recipients in escc.toml: `PATH: {fn::secret: \
{ciphertext: ...}}`. The value is read from standard input, or typed at a prompt that does \
not echo when standard input is a terminal; never from the command line, where `ps` and the \
shell's history would see it. A single final line break of piped input is dropped (`echo` and \
`printf` give the same value); a value of several lines is kept as is. Only the secret's \
bytes change (a missing key is added at the end of its mapping); the file is replaced \
atomically. A new environment's file is created.\n\n\
Identities (to check that you could decrypt the result, and for `open` and `run`): \
ESCC_AGE_IDENTITY (the key text), else ESCC_AGE_IDENTITY_FILE (a file of AGE-SECRET-KEY-1... \
lines, or an unencrypted OpenSSH ed25519 or RSA private key), else \
$XDG_CONFIG_HOME/escc/identity.txt (~/.config/escc/identity.txt).",
        after_help = "Examples:
  escc secret set app/prod db.password          prompts for the value
  vault read -field=pw secret/db | escc secret set app/prod db.password
  escc secret set app/prod 'keys[\"api token\"]' < token.txt"
    )]
    Set {
        /// The environment name (app/prod) or file.
        #[arg(value_name = "NAME")]
        name: String,
        /// Where below `values`, e.g. db.password or tokens[0].
        #[arg(value_name = "PATH")]
        path: String,
        /// Encrypt even when none of your identities is a recipient.
        #[arg(long)]
        force: bool,
    },
}

/// The arguments of `get` and `open`.
#[derive(Debug, clap::Args)]
struct ValueArgs {
    /// The environment name (app/dev) or file (app/dev.yaml) [default: defaults.environment
    /// in escc.toml].
    #[arg(value_name = "NAME")]
    name: Option<String>,
    /// Only this property, e.g. database.host or tags[0].
    #[arg(value_name = "PATH")]
    path: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ValueFormat::Json)]
    format: ValueFormat,
    /// Show secrets in plaintext instead of [secret].
    #[arg(long)]
    show_secrets: bool,
}

/// A failure that is not about the environments: bad usage, a file that cannot be read.
/// It exits with status 2.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
}

impl Failure {
    pub(crate) fn new(message: String) -> Self {
        Failure { message }
    }
}

impl Finish {
    /// Exits as this says: with the status, or by dying of the signal.
    fn exit(self) -> ExitCode {
        match self {
            Finish::Code(c) => ExitCode::from(c),
            Finish::Signal(sig) => die_of(sig),
        }
    }
}

/// Dies of signal `sig` (the command's, or one escc got); if that is not possible, returns
/// the status a shell reports for it. Without a core dump: escc's memory holds secrets.
pub(crate) fn die_of(sig: i32) -> ExitCode {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    ExitCode::from(u8::try_from(128 + sig).unwrap_or(EXIT_FAILED))
}

/// Prints `escc: error: ...` on stderr.
pub(crate) fn error(message: &str) {
    let _ = writeln!(std::io::stderr(), "escc: error: {message}");
}

/// Prints `escc: warning: ...` on stderr.
pub(crate) fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "escc: warning: {message}");
}

/// Prints `escc: ...` on stderr.
pub(crate) fn note(message: &str) {
    let _ = writeln!(std::io::stderr(), "escc: {message}");
}

/// Writes the command's output on stdout. A closed pipe (`escc get ... | head -1`) is not
/// an error.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(format!(
            "writing the output: {}",
            project::io_text(&e)
        ))),
        _ => Ok(()),
    }
}

/// Makes a panic print where it happened, never its message: a message can hold a value
/// (`called Result::unwrap() on an Err value: ...`, `byte index 3 is not a char boundary
/// ... of "..."`), and a value can be a secret. The command line and the language server
/// (whose standard error editors show in their logs) install it first thing.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
        let _ = writeln!(
            std::io::stderr(),
            "escc: internal error{place}: this is a bug in escc. Its message is not shown, as \
             it may hold secret values. Please report it with a document that shows it."
        );
    }));
}

/// Runs the command line.
#[must_use]
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let start: Option<&Path> = match &cli.command {
        Command::Check { targets, .. } => targets
            .iter()
            .map(Path::new)
            .find(|p| std::fs::symlink_metadata(p).is_ok()),
        Command::Get(a) | Command::Open(a) => a.name.as_deref().map(Path::new),
        Command::Run { name, .. } | Command::Graph { name, .. } | Command::Export { name, .. } => {
            name.as_deref().map(Path::new)
        }
        Command::History { name, .. }
        | Command::Diff { a: name, .. }
        | Command::Tag { spec: name, .. }
        | Command::Tags { name, .. }
        | Command::Rollback { spec: name, .. } => Some(Path::new(name.as_str())),
        Command::Encrypt { targets, .. } | Command::Rekey { targets, .. } => targets
            .iter()
            .map(Path::new)
            .find(|p| std::fs::symlink_metadata(p).is_ok()),
        Command::Secret(SecretCommand::Set { name, .. })
        | Command::Edit { name, .. }
        | Command::Rotate { name, .. } => Some(Path::new(name.as_str())),
        // Run by git, anywhere in a repository: no project is needed.
        Command::DiffDriver { args } => {
            return diff_driver::diff_driver(args).unwrap_or_else(|f| {
                error(&f.message);
                ExitCode::from(EXIT_USAGE)
            });
        }
        Command::MergeDriver {
            base,
            current,
            other,
            path,
            marker_size,
            labels,
        } => {
            let args = merge_driver::MergeArgs {
                files: [base.clone(), current.clone(), other.clone()],
                path: path.clone(),
                marker_size: *marker_size,
                labels: labels.clone(),
            };
            return merge_driver::merge_driver(&args).unwrap_or_else(|f| {
                error(&f.message);
                ExitCode::from(EXIT_USAGE)
            });
        }
        #[cfg(feature = "lsp")]
        Command::Lsp { .. } => return crate::lsp::run(),
        // The schema is the same for every project: it needs none.
        Command::Schema => return schema(),
        // The server keeps its environments in a database, not in a project directory.
        Command::Serve(args) => {
            return serve::serve(args).unwrap_or_else(|f| {
                error(&f.message);
                ExitCode::from(EXIT_USAGE)
            });
        }
    };
    let project = match Project::open(cli.root.as_deref(), start, &cli.context) {
        Ok(mut p) => {
            p.inner
                .allow_plugins(cli.allow_plugins || crate::providers::plugins_allowed_by_env());
            p.inner.set_offline(cli.offline);
            p
        }
        Err(f) => {
            error(&f.message);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Check {
            targets,
            format,
            deny_warnings,
        } => {
            let deny = deny_warnings || project.defaults().deny_warnings == Some(true);
            check::check(&project, &targets, format, deny)
        }
        Command::Get(a) => get::get(&project, &value_args(a, false)),
        Command::Open(a) => get::get(&project, &value_args(a, true)),
        Command::Run {
            name,
            interactive,
            command,
        } => match run::run(
            &project,
            &RunArgs {
                name,
                interactive,
                command,
            },
        ) {
            Ok(finish) => Ok(finish.exit()),
            Err(f) => Err(f),
        },
        Command::History { name, format } => versions::history(&project, &name, format),
        Command::Diff { a, b, definition } => {
            versions::diff(&project, &a, b.as_deref(), definition)
        }
        Command::Tag {
            spec,
            tag,
            force,
            delete,
        } => {
            if delete {
                versions::untag(&project, &spec, &tag)
            } else {
                versions::tag(&project, &spec, &tag, force)
            }
        }
        Command::Tags { name, format } => versions::tags(&project, &name, format),
        Command::Rollback { spec, force } => versions::rollback(&project, &spec, force),
        Command::Graph { name, format } => graph::graph(&project, name.as_deref(), format),
        Command::Export {
            name,
            target,
            k8s_name,
            namespace,
            outputs,
            path,
        } => export::export(
            &project,
            &export::ExportArgs {
                name,
                targets: target,
                k8s_name,
                namespace,
                outputs,
                path,
            },
        ),
        Command::Encrypt { targets, force } => secrets::encrypt(&project, &targets, force),
        Command::Rekey { targets, force } => secrets::rekey(&project, &targets, force),
        Command::Secret(SecretCommand::Set { name, path, force }) => {
            secrets::set(&project, &name, &path, force)
        }
        Command::Edit { name, force } => edit::edit(&project, &name, force).map(Finish::exit),
        Command::DiffDriver { .. }
        | Command::MergeDriver { .. }
        | Command::Serve(_)
        | Command::Schema => Ok(ExitCode::SUCCESS),
        Command::Rotate {
            name,
            paths,
            dry_run,
            force,
        } => rotate::rotate(
            &project,
            &rotate::RotateArgs {
                name,
                paths,
                dry_run,
                force,
            },
        ),
        #[cfg(feature = "lsp")]
        Command::Lsp { .. } => Ok(ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            error(&f.message);
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `escc schema`: the schema, pretty-printed, on standard output.
fn schema() -> ExitCode {
    let mut text =
        serde_json::to_string_pretty(&crate::providers::environment_schema()).unwrap_or_default();
    text.push('\n');
    if let Err(e) = std::io::stdout().write_all(text.as_bytes()) {
        // A closed pipe (`escc schema | head`) is not an error worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            error(&format!("cannot write the schema: {e}"));
            return ExitCode::from(EXIT_USAGE);
        }
    }
    ExitCode::SUCCESS
}

fn value_args(a: ValueArgs, open: bool) -> GetArgs {
    GetArgs {
        name: a.name,
        path: a.path,
        format: a.format,
        show_secrets: a.show_secrets,
        open,
    }
}
