//! The command line's shape: every command, flag and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  API or network failure (the error line says what the server answered)
  2  usage error or bad input (nothing was sent)
  130  interrupted (Ctrl-C)
`psg auth status`: 0 when groups can be read, 1 otherwise. NO_COLOR turns colour off; `-` is stdin for -f.

The connection (tenant URL and credentials) comes whole from the first of:
  1. flags: --base-url with --client-id and --client-secret-file, or --access-token-file
  2. --profile NAME (or PSG_PROFILE) in $PSG_CONFIG (default: ~/.config/psg/config.toml on
     Linux, ~/Library/Application Support/psg/config.toml on macOS, %APPDATA%\\psg\\config.toml on Windows)
  3. SAIL_BASE_URL with SAIL_CLIENT_ID and SAIL_CLIENT_SECRET (or SAIL_ACCESS_TOKEN)
  4. the profile named `default`
A URL from one place is never paired with a secret from another.
--timeout, --max-attempts and --api-version apply on top of any of them.";

/// psg: manage SailPoint ISC password sync groups, by hand or as code.
#[derive(Debug, Parser)]
#[command(name = "psg", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Tenant API root, e.g. `https://acme.api.identitynow.com`; needs its
    /// credentials as flags too.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Client id to go with --base-url (the secret comes from --client-secret-file).
    #[arg(long, global = true, value_name = "ID", requires = "base_url")]
    pub client_id: Option<String>,
    /// File holding the client secret for --client-id (never a flag value: it would show in `ps`).
    #[arg(long, global = true, value_name = "FILE", requires = "client_id")]
    pub client_secret_file: Option<PathBuf>,
    /// File holding a ready access token to go with --base-url.
    #[arg(long, global = true, value_name = "FILE", requires = "base_url", conflicts_with = "client_id")]
    pub access_token_file: Option<PathBuf>,
    /// API version to call: beta (default), v3, v2024, v2025, v2026, or v1 (SailPoint's per-service
    /// layout, /password-sync-groups/v1, the one its current SDKs call).
    #[arg(long, global = true, value_name = "VERSION", value_parser = api_version_parser())]
    pub api_version: Option<psg_ext::ApiVersion>,
    /// Profile of the profile file to use (default: `default` when the file has it).
    #[arg(long, global = true, env = "PSG_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<OutputFormat>,
    /// More logging on stderr: -v for each request, -vv for details.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Per-request timeout in seconds (1..3600).
    #[arg(long, global = true, value_name = "SECS", allow_hyphen_values = true, value_parser = crate::flags::ranged::<u64>(1, 3600))]
    pub timeout: Option<u64>,
    /// Attempts per request, including the first (1..100, default 3).
    #[arg(long, global = true, value_name = "N", allow_hyphen_values = true, value_parser = crate::flags::ranged::<u32>(1, 100))]
    pub max_attempts: Option<u32>,
}

/// Every version psg-ext knows, as possible values (shell completions offer
/// them; clap's error lists them).
fn api_version_parser() -> impl clap::builder::TypedValueParser<Value = psg_ext::ApiVersion> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = psg_ext::ApiVersion::ALL.iter().map(|v| PossibleValue::new(v.as_str()));
    // Every possible value parses: they are the versions' own names.
    PossibleValuesParser::new(values).try_map(|s| s.parse::<psg_ext::ApiVersion>().map_err(|e| e.to_string()))
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people, fitted to $COLUMNS or the terminal (ids never cut).
    Table,
    /// The table with every column in full, ids of policies and sources too.
    Wide,
    /// The API's JSON model.
    Json,
    /// The API's model as YAML.
    Yaml,
    /// One JSON object per line, streamed.
    Ndjson,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, read, create, update and delete groups.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// List password policies (what `passwordPolicy:` names in a portable file).
    #[command(subcommand)]
    Policies(PoliciesCommand),
    /// List sources (what `sources:` names in a portable file).
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// Write every group as a desired-state YAML document (JSON with -o json), ready for `apply`.
    #[command(
        after_help = "Examples:\n  psg export --file groups.yaml\n  psg export --portable -o json > groups.json\n\n-o yaml (the default, also when piped) or -o json; table, wide and ndjson are refused.\nThe YAML quotes every value that YAML 1.1 tools would read as something else (\"on\", \"12:30\")."
    )]
    Export {
        /// Write here instead of stdout (written atomically); `-` is stdout.
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Name policies and sources instead of giving their ids, so the file
        /// can be applied to another tenant (names resolve there).
        #[arg(long)]
        portable: bool,
        /// Where the YAML's first line (`# yaml-language-server: $schema=REF`) points editors:
        /// the file `psg schema --out` wrote, relative to the exported file, or a URL.
        #[arg(long, value_name = "REF", default_value = crate::gitops::schema::DEFAULT_SCHEMA_FILE)]
        schema_ref: String,
    },
    /// Print the JSON Schema of the desired-state file, for editors (completion and errors as you type).
    #[command(
        after_help = "Examples:\n  psg schema --out psg-desired-state.schema.json\n  psg export --file groups.yaml    # its first line points at that file\n\nVS Code (YAML extension) and Neovim (yaml-language-server) read the `# yaml-language-server: $schema=` line."
    )]
    Schema {
        /// Write here (atomically) instead of stdout; `-` is stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Show what `apply` would change to make the tenant match a file.
    #[command(
        after_help = "Example:\n  psg plan -f groups.yaml --prune --detailed-exitcode\n\nWith --detailed-exitcode: 0 no changes, 2 changes, 1 any error."
    )]
    Plan(PlanArgs),
    /// Make the tenant match a desired-state file (groups keyed by name), or apply a saved plan.
    #[command(
        after_help = "Examples:\n  psg apply -f groups.yaml --prune --yes\n  psg plan -f groups.yaml --out groups.plan && psg apply --plan groups.plan --yes\n\nWith --detailed-exitcode: 0 nothing done, 2 changes applied, 1 any error. Ctrl-C: finish the\nrequests in flight, start nothing new, exit 130; a second Ctrl-C quits at once."
    )]
    Apply(ApplyArgs),
    /// Who psg is connected as: tenant, client, token.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Run the local emulator in the foreground (same options as psg-emulator).
    #[command(after_help = "Example:\n  psg emulator --bind 127.0.0.1:8620 --groups 20 --faults 503=0.05")]
    Emulator(psg_emulator::EmulatorArgs),
    /// A guided tour against an embedded emulator: no tenant, no credentials.
    #[command(after_help = "Example:\n  psg demo")]
    Demo,
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  psg completions bash > /etc/bash_completion.d/psg")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), for packagers: `cargo xtask dist` writes it to target/dist/psg.1.
    #[command(hide = true, after_help = "Example:\n  psg man > psg.1 && man ./psg.1")]
    Man,
}

/// `psg policies ...`.
#[derive(Debug, Subcommand)]
pub enum PoliciesCommand {
    /// Every password policy: id, name, whether it is the default.
    #[command(after_help = "Example:\n  psg policies list -o json")]
    List,
}

/// `psg sources ...`.
#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Sources, optionally filtered with ISC's filter syntax.
    #[command(
        after_help = "Examples:\n  psg sources list --password-managed\n  psg sources list --filter 'name in (\"Active Directory\", \"Workday\")'"
    )]
    List {
        /// An ISC filter: `eq`, `in`, `sw`, `co` on name and id, `ca` on features, with `and`, `or`, `not`, parentheses.
        #[arg(long, value_name = "EXPR")]
        filter: Option<String>,
        /// Only sources whose passwords can be managed (feature PASSWORD).
        #[arg(long)]
        password_managed: bool,
    },
}

/// `psg auth ...`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Base URL, API version, client id and where each came from; the token's
    /// expiry and scopes when one can be had; then one cheap request per permission
    /// (read groups, change groups, read sources, read policies) and a line each.
    /// Exit 0 when groups can be read (missing permissions are warning lines), 1 otherwise.
    #[command(
        after_help = "Examples:\n  psg auth status\n  psg --profile prod auth status -o json\n\nThe change check sends a PUT for an id no group has (404: allowed, 403: refused); nothing is changed.\nNever prints the client secret or the token."
    )]
    Status,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// The desired-state file (YAML or JSON), as written by `psg export`; `-` for stdin.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete groups that the file does not name.
    #[arg(long)]
    pub prune: bool,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the plan, with a fingerprint of the tenant, for `psg apply --plan`.
    #[arg(long, value_name = "PLANFILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// The desired-state file (YAML or JSON), as written by `psg export`; `-` for stdin.
    #[arg(long, short = 'f', value_name = "FILE", required_unless_present = "plan", conflicts_with = "plan")]
    pub file: Option<PathBuf>,
    /// Also delete groups that the file does not name.
    #[arg(long, conflicts_with = "plan")]
    pub prune: bool,
    /// Apply exactly this saved plan (from `psg plan --out`); refused if the tenant changed since.
    #[arg(long, value_name = "PLANFILE")]
    pub plan: Option<PathBuf>,
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow a prune that deletes every group of the tenant.
    #[arg(long)]
    pub allow_delete_all: bool,
    /// Stop before anything is sent when the plan deletes more than N groups (default: a quarter of
    /// the tenant, at least 10; --allow-delete-all lifts the default).
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = crate::flags::ranged::<usize>(0, 1_000_000))]
    pub max_deletes: Option<usize>,
    /// Exit 0 when nothing was done, 2 when changes were applied, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Rounds, 1 to 20: a change that failed in a way that may pass (no
    /// answer, a 5xx, a 429) is checked and tried again in the next round.
    /// --max-attempts bounds the attempts of each request within a round.
    #[arg(long, value_name = "N", default_value_t = crate::gitops::execute::DEFAULT_ROUNDS,
          value_parser = crate::flags::ranged::<u32>(1, 20))]
    pub rounds: u32,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups: one page, or every page with --all.
    #[command(
        after_help = "Examples:\n  psg groups list --limit 20\n  psg groups list --all -o ndjson\n  psg groups list --source \"Active Directory\""
    )]
    List {
        /// Page size, 0 to 250 (with --all: the size of each page fetched).
        #[arg(long, default_value_t = 250, allow_hyphen_values = true, value_parser = crate::flags::ranged::<u32>(0, 250))]
        limit: u32,
        /// Items to skip.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_parser = crate::flags::ranged::<u64>(0, u64::MAX))]
        offset: u64,
        /// Every group, all pages (fetched concurrently, printed in order).
        #[arg(long)]
        all: bool,
        /// Only groups with this source (name or id; repeat: groups with all of them).
        /// The API cannot filter groups: psg reads every page and filters itself.
        #[arg(long = "source", value_name = "NAME|ID")]
        sources: Vec<String>,
        /// Only groups with this password policy (name or id); filtered by psg, like --source.
        #[arg(long, value_name = "NAME|ID")]
        policy: Option<String>,
    },
    /// Show one group, by id or by name.
    #[command(
        after_help = "Examples:\n  psg groups get 2c9180887d9c0c5e017da4b4f3d2004c -o yaml\n  psg groups get --name Finance"
    )]
    Get {
        /// The group id.
        #[arg(required_unless_present = "name", conflicts_with = "name")]
        id: Option<String>,
        /// The group's name instead of its id (exit 2 if no group or several have it).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Create a group from flags or from a file.
    #[command(
        after_help = "Examples:\n  psg groups create --name Finance --policy Corporate --source \"Active Directory\" --source Workday\n  psg groups create --name Finance --policy POLICY_ID --source SRC1_ID --source SRC2_ID\n  psg groups create --file group.yaml\n\n--policy and --source take a name or an id: an existing id is used as is, anything else must be\nthe exact name of one policy or source (a name two share is refused with their ids)."
    )]
    Create {
        /// Name of the group.
        #[arg(long, required_unless_present = "file", conflicts_with = "file")]
        name: Option<String>,
        /// Password policy: its name or id.
        #[arg(long, value_name = "NAME|ID", required_unless_present = "file", conflicts_with = "file")]
        policy: Option<String>,
        /// A source, by name or id (repeat for each source; at least two).
        #[arg(long = "source", value_name = "NAME|ID", conflicts_with = "file")]
        sources: Vec<String>,
        /// A JSON or YAML file with name, passwordPolicyId and sourceIds (`-` for stdin).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Create it even if another group already has the name.
        #[arg(long)]
        allow_duplicate_name: bool,
    },
    /// Change a group: fetches it, merges the flags, and replaces it (PUT).
    #[command(
        after_help = "Examples:\n  psg groups update ID --name \"Finance apps\"\n  psg groups update ID --source SRC1 --source SRC3\n  psg groups update --name Finance --policy POLICY_ID\n  psg groups update --name Finance --new-name \"Finance apps\"\n  psg groups update ID --file group.yaml\n\nWith an ID, --name is the new name; without one, --name picks the group (exit 2 if no\ngroup or several have it) and --new-name renames it."
    )]
    Update {
        /// The group id (or pick it with --name).
        #[arg(required_unless_present = "name")]
        id: Option<String>,
        /// With an ID: the new name. Without: the name of the group to change.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// New name (when --name picks the group).
        #[arg(long, value_name = "NAME", conflicts_with = "file")]
        new_name: Option<String>,
        /// New password policy: its name or id.
        #[arg(long, value_name = "NAME|ID", conflicts_with = "file")]
        policy: Option<String>,
        /// New list of sources, by name or id (repeat for each; replaces the old list).
        #[arg(long = "source", value_name = "NAME|ID", conflicts_with = "file")]
        sources: Vec<String>,
        /// A JSON or YAML file with the whole group (`-` for stdin).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Rename it even if another group already has the name.
        #[arg(long)]
        allow_duplicate_name: bool,
    },
    /// Delete groups: tries every one, then reports (asks on a terminal; elsewhere needs --yes).
    #[command(
        after_help = "Examples:\n  psg groups delete ID1 ID2 --yes\n  psg groups delete --name Finance --yes\n  psg groups delete ID1 ID2 --yes --ignore-not-found -o json\n\n-o json prints {\"deleted\": [...], \"notFound\": [...], \"failed\": [{\"id\": ..., \"error\": ...}]}.\nExit 1 if any failed or was not found (with --ignore-not-found, not found counts as done)."
    )]
    Delete {
        /// Group ids.
        #[arg(required_unless_present = "names")]
        ids: Vec<String>,
        /// Delete the group of this name (repeatable; exit 2 if no group or several have it).
        #[arg(long = "name", value_name = "NAME")]
        names: Vec<String>,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Ids that do not exist count as deleted (exit 0 for them).
        #[arg(long)]
        ignore_not_found: bool,
    },
}
