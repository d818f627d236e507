//! Typed settings: compiled-in `config/default.toml` → optional `--config FILE` →
//! `LEARNLOOP_*` environment variables (env wins). Parsed once, validated once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

pub use crate::secret::Secret;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Environment variable → dotted key in the TOML tree. These names are a fixed interface.
const ENV_KEYS: &[(&str, &str)] = &[
    ("LEARNLOOP_LISTEN", "http.listen"),
    ("LEARNLOOP_METRICS_LISTEN", "http.metrics_listen"),
    ("LEARNLOOP_DATABASE_URL", "database.url"),
    ("LEARNLOOP_SLACK_SIGNING_SECRET", "slack.signing_secret"),
    ("LEARNLOOP_SLACK_BOT_TOKEN", "slack.bot_token"),
    ("LEARNLOOP_SLACK_API_URL", "slack.api_url"),
    ("LEARNLOOP_SLACK_APP_TOKEN", "slack.app_token"),
    ("LEARNLOOP_SLACK_CLIENT_ID", "slack.client_id"),
    ("LEARNLOOP_SLACK_CLIENT_SECRET", "slack.client_secret"),
    ("LEARNLOOP_SLACK_OAUTH_URL", "slack.oauth_url"),
    ("LEARNLOOP_PUBLIC_URL", "http.public_url"),
    ("LEARNLOOP_ADMINS", "http.admins"),
    ("LEARNLOOP_TOKEN_KEYS", "security.token_keys"),
    ("LEARNLOOP_TOKEN_KEYS_FILE", "security.token_keys_file"),
    ("LEARNLOOP_TEAMS_APP_ID", "teams.app_id"),
    ("LEARNLOOP_TEAMS_APP_PASSWORD", "teams.app_password"),
    ("LEARNLOOP_TEAMS_TENANT_ID", "teams.tenant_id"),
    ("LEARNLOOP_TEAMS_TENANTS", "teams.tenants"),
    ("LEARNLOOP_TEAMS_OPENID_URL", "teams.openid_url"),
    ("LEARNLOOP_TEAMS_TOKEN_URL", "teams.token_url"),
    ("LEARNLOOP_MICROSOFT_LOGIN_URL", "teams.login_url"),
    ("LEARNLOOP_TEAMS_WEBHOOK_SECRET", "teams.webhook_secret"),
    ("LEARNLOOP_LOG", "log"),
];

/// A configuration problem, worded for the person running the service.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Which database backend a URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://path` or `sqlite::memory:`; kept whole for sqlx.
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`. Credentials may be inside, so it is redacted when shown.
    Postgres(Secret),
}

impl FromStr for DatabaseUrl {
    type Err = ConfigError;
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let url = url.trim();
        if url.starts_with("sqlite:") {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            if path.is_empty() {
                return Err(ConfigError::Invalid(
                    "database.url `sqlite://` names no file; use e.g. sqlite://learnloop.db".into(),
                ));
            }
            Ok(Self::Sqlite(url.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(Secret::new(url)))
        } else {
            let scheme = url.split(':').next().unwrap_or_default();
            Err(ConfigError::Invalid(format!(
                "database.url has unknown scheme `{scheme}`; use sqlite://PATH or postgres://..."
            )))
        }
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Sqlite(url) => serializer.serialize_str(url),
            Self::Postgres(_) => serializer.serialize_str("postgres://[redacted]"),
        }
    }
}

/// The effective settings of one process.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub log: String,
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub slack: SlackSettings,
    pub delivery: DeliverySettings,
    pub teams: TeamsSettings,
    pub workspace: WorkspaceSettings,
    pub scheduler: SchedulerSettings,
    pub templates: TemplateSettings,
    pub debriefs: DebriefSettings,
    pub followups: FollowupSettings,
    pub retention: RetentionSettings,
    pub security: SecuritySettings,
}

/// Secrets at rest.
#[derive(Clone, Debug, Serialize)]
pub struct SecuritySettings {
    /// `kid:BASE64,…` (from `LEARNLOOP_TOKEN_KEYS` or the file of
    /// `LEARNLOOP_TOKEN_KEYS_FILE`), checked to parse; `None` stores no tokens.
    pub token_keys: Option<Secret>,
}

/// When lesson follow-ups are sent.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FollowupSettings {
    /// The hour (0–23, the person's own time) from which a working day's follow-ups
    /// are sent, all in one message.
    pub hour: u32,
}

/// How long what was said is kept.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days after delivery a message's body is erased.
    pub outbox_days: u64,
    /// Days a message that could not be delivered is kept for the operator.
    pub failed_outbox_days: u64,
}

/// How debriefs run.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DebriefSettings {
    /// The template of `/debrief` without `--template` (checked at start).
    pub default_template: String,
    /// Days from a debrief's close to the first follow-up of its lessons.
    pub follow_up_days: u32,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub dir: std::path::PathBuf,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    pub missed_grace_hours: u64,
}

/// How the outbox worker sends.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub give_up_after_hours: u64,
    pub channel_interval_ms: u64,
    pub workspace_rate_per_sec: u32,
    pub concurrency: usize,
    pub initial_backoff_ms: u64,
    pub max_backoff_secs: u64,
    pub lease_secs: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    /// A listener of its own for `/metrics`; `None` serves it on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    /// The service's public https base (OAuth redirects), without a trailing `/`.
    pub public_url: Option<String>,
    /// Platform user ids who administer the dashboard besides the workspace's own
    /// admins and owners (`LEARNLOOP_ADMINS`, a comma list).
    pub admins: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SlackSettings {
    pub signing_secret: Option<Secret>,
    pub bot_token: Option<Secret>,
    pub api_url: String,
    pub request_timeout_secs: u64,
    pub event_dedupe_hours: u64,
    /// `xapp-…`: Socket Mode runs when set.
    pub app_token: Option<Secret>,
    /// Base of Slack's browser pages (`/oauth/v2/authorize`).
    pub oauth_url: String,
    pub socket: SocketSettings,
    /// OAuth v2 distribution, when the app's client id and secret are set.
    pub oauth: Option<OAuthSettings>,
}

/// How the Socket Mode connection is kept alive.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SocketSettings {
    /// A ping is sent after this many seconds without a frame.
    pub ping_secs: u64,
    /// A socket with no frame at all for this long is dead (half-open): reconnect.
    pub idle_secs: u64,
}

/// A Slack app distributed to many workspaces.
#[derive(Clone, Debug, Serialize)]
pub struct OAuthSettings {
    pub client_id: String,
    pub client_secret: Secret,
}

#[derive(Clone, Debug, Serialize)]
pub struct TeamsSettings {
    pub app_id: Option<String>,
    pub app_password: Option<Secret>,
    pub tenant_id: Option<String>,
    /// Tenants allowed to talk to the bot (and the webhook); `LEARNLOOP_TEAMS_TENANTS`,
    /// else the bot's own tenant. Empty: nobody.
    pub tenants: Vec<String>,
    pub openid_url: String,
    pub token_url: Option<String>,
    pub webhook_secret: Option<Secret>,
    /// Microsoft Entra ID's sign-in base (`LEARNLOOP_MICROSOFT_LOGIN_URL`): the
    /// dashboard's "Sign in with Microsoft", without a trailing `/`.
    pub login_url: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkspaceSettings {
    /// A valid IANA zone name (checked when loading).
    pub default_time_zone: String,
    pub holidays: Vec<chrono::NaiveDate>,
    /// The days people work; follow-ups wait for one.
    pub workdays: Vec<chrono::Weekday>,
}

/// The items of a comma list, trimmed, without empty ones.
fn comma_list(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The shape of the merged TOML before validation; every field must be present
/// because `default.toml` provides it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    log: String,
    http: RawHttp,
    database: RawDatabase,
    slack: RawSlack,
    delivery: DeliverySettings,
    teams: RawTeams,
    workspace: WorkspaceRaw,
    scheduler: SchedulerSettings,
    templates: TemplateSettings,
    debriefs: DebriefSettings,
    followups: FollowupSettings,
    retention: RetentionSettings,
    #[serde(default)]
    security: RawSecurity,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    token_keys: Option<Secret>,
    token_keys_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: String,
    #[serde(default)]
    metrics_listen: Option<String>,
    body_limit_bytes: usize,
    request_timeout_secs: u64,
    #[serde(default)]
    public_url: Option<String>,
    #[serde(default)]
    admins: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
    max_connections: u32,
    busy_timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    signing_secret: Option<Secret>,
    bot_token: Option<Secret>,
    api_url: String,
    request_timeout_secs: u64,
    event_dedupe_hours: u64,
    app_token: Option<Secret>,
    socket: SocketSettings,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    oauth_url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeams {
    app_id: Option<String>,
    app_password: Option<Secret>,
    tenant_id: Option<String>,
    /// A comma list (as the environment gives it).
    #[serde(default)]
    tenants: Option<String>,
    openid_url: String,
    token_url: Option<String>,
    webhook_secret: Option<Secret>,
    login_url: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceRaw {
    default_time_zone: String,
    holidays: Vec<String>,
    workdays: Vec<String>,
}

impl Settings {
    /// Loads the defaults, then `file` if given, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    /// Like [`Settings::load`] with an explicit environment, so tests need not mutate the process.
    pub fn load_from(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let mut tree = parse_toml("config/default.toml (built in)", DEFAULT_TOML)?;
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: shown.clone(),
                source,
            })?;
            merge(&mut tree, parse_toml(&shown, &text)?);
        }
        for (var, key) in ENV_KEYS {
            // An empty variable counts as unset, the way shells and compose files use them.
            if let Some(value) = env.get(*var).filter(|v| !v.trim().is_empty()) {
                set_dotted(&mut tree, key, toml::Value::String(value.clone()));
            }
        }
        let raw: RawSettings = tree
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))?;
        raw.validate()
    }
}

impl RawSettings {
    fn validate(self) -> Result<Settings, ConfigError> {
        let invalid = |msg: String| ConfigError::Invalid(msg);
        let listen = self.http.listen.trim().parse::<SocketAddr>().map_err(|_| {
            invalid(format!(
                "http.listen (LEARNLOOP_LISTEN) `{}` is not an address like 127.0.0.1:3000",
                self.http.listen
            ))
        })?;
        let metrics_listen = match self.http.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(address) => Some(address.parse::<SocketAddr>().map_err(|_| {
                invalid(format!(
                    "http.metrics_listen (LEARNLOOP_METRICS_LISTEN) `{address}` is not an address \
                     like 127.0.0.1:9090"
                ))
            })?),
        };
        if self.http.body_limit_bytes == 0 {
            return Err(invalid("http.body_limit_bytes must be above 0".into()));
        }
        let url: DatabaseUrl = self.database.url.parse()?;
        if self.database.max_connections == 0 {
            return Err(invalid(
                "database.max_connections must be at least 1".into(),
            ));
        }
        let api_url = self.slack.api_url.trim().trim_end_matches('/').to_owned();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(invalid(format!(
                "slack.api_url (LEARNLOOP_SLACK_API_URL) `{api_url}` must be an http(s) URL"
            )));
        }
        let delivery = self.delivery;
        if delivery.workspace_rate_per_sec == 0
            || delivery.concurrency == 0
            || delivery.lease_secs == 0
        {
            return Err(invalid(
                "delivery.workspace_rate_per_sec, delivery.concurrency and delivery.lease_secs must be above 0"
                    .into(),
            ));
        }
        let zone = self.workspace.default_time_zone.trim().to_owned();
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(format!(
                "workspace.default_time_zone `{zone}` is not an IANA time zone like Europe/Berlin"
            )));
        }
        let holidays = self
            .workspace
            .holidays
            .iter()
            .map(|day| {
                chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                    invalid(format!(
                        "workspace.holidays: `{day}` is not a YYYY-MM-DD date"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let workdays = self
            .workspace
            .workdays
            .iter()
            .map(|day| {
                day.parse::<chrono::Weekday>().map_err(|_| {
                    invalid(format!(
                        "workspace.workdays: `{day}` is not a day of the week (Mon, Tue, …)"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if workdays.is_empty() {
            return Err(invalid("workspace.workdays names no day".into()));
        }
        if self.followups.hour > 23 {
            return Err(invalid(format!(
                "followups.hour is {}; give an hour from 0 to 23",
                self.followups.hour
            )));
        }
        let security = self.security.validate()?;
        let oauth_url = self.slack.oauth_url.trim().trim_end_matches('/').to_owned();
        let public_url = self
            .http
            .public_url
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty());
        for (name, url) in [
            (
                "slack.oauth_url (LEARNLOOP_SLACK_OAUTH_URL)",
                Some(&oauth_url),
            ),
            (
                "http.public_url (LEARNLOOP_PUBLIC_URL)",
                public_url.as_ref(),
            ),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return Err(invalid(format!("{name} `{url}` must be an http(s) URL")));
            }
        }
        let oauth = oauth_settings(
            self.slack.client_id,
            self.slack.client_secret,
            public_url.is_some(),
            security.token_keys.is_some(),
        )?;
        let app_token = self.slack.app_token.filter(|s| !s.expose().is_empty());
        if let Some(token) = &app_token
            && !token.expose().starts_with("xapp-")
        {
            return Err(invalid(
                "slack.app_token (LEARNLOOP_SLACK_APP_TOKEN) must be an app-level token \
                 starting with xapp- (Basic Information → App-Level Tokens, scope \
                 connections:write)"
                    .into(),
            ));
        }
        if self.slack.socket.ping_secs == 0
            || self.slack.socket.idle_secs <= self.slack.socket.ping_secs
        {
            return Err(invalid(
                "slack.socket.idle_secs must be longer than slack.socket.ping_secs (above 0)"
                    .into(),
            ));
        }
        let log = self.log.trim().to_owned();
        tracing_subscriber::EnvFilter::try_new(&log).map_err(|e| {
            invalid(format!(
                "log (LEARNLOOP_LOG) `{log}` is not a valid filter: {e}"
            ))
        })?;
        Ok(Settings {
            log,
            http: HttpSettings {
                listen,
                metrics_listen,
                body_limit_bytes: self.http.body_limit_bytes,
                request_timeout_secs: self.http.request_timeout_secs.max(1),
                public_url,
                admins: comma_list(self.http.admins.as_deref()),
            },
            database: DatabaseSettings {
                url,
                max_connections: self.database.max_connections,
                busy_timeout_ms: self.database.busy_timeout_ms,
            },
            slack: SlackSettings {
                signing_secret: self.slack.signing_secret.filter(|s| !s.expose().is_empty()),
                bot_token: self.slack.bot_token.filter(|s| !s.expose().is_empty()),
                api_url,
                request_timeout_secs: self.slack.request_timeout_secs.max(1),
                event_dedupe_hours: self.slack.event_dedupe_hours.max(1),
                app_token,
                oauth_url,
                socket: self.slack.socket,
                oauth,
            },
            delivery,
            teams: TeamsSettings {
                tenants: match comma_list(self.teams.tenants.as_deref()) {
                    list if !list.is_empty() => list,
                    _ => self
                        .teams
                        .tenant_id
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect(),
                },
                app_id: self.teams.app_id.filter(|s| !s.is_empty()),
                app_password: self.teams.app_password.filter(|s| !s.expose().is_empty()),
                tenant_id: self.teams.tenant_id.filter(|s| !s.is_empty()),
                openid_url: self.teams.openid_url,
                token_url: self.teams.token_url.filter(|s| !s.is_empty()),
                webhook_secret: self.teams.webhook_secret.filter(|s| !s.expose().is_empty()),
                login_url: self.teams.login_url.trim().trim_end_matches('/').to_owned(),
            },
            workspace: WorkspaceSettings {
                default_time_zone: zone,
                holidays,
                workdays,
            },
            followups: self.followups,
            scheduler: self.scheduler,
            templates: self.templates,
            debriefs: DebriefSettings {
                follow_up_days: self.debriefs.follow_up_days.max(1),
                ..self.debriefs
            },
            retention: RetentionSettings {
                outbox_days: self.retention.outbox_days.max(1),
                failed_outbox_days: self.retention.failed_outbox_days.max(1),
            },
            security,
        })
    }
}

/// OAuth needs the client id and secret together, a public URL to come back to, and
/// keys to seal the tokens it stores.
fn oauth_settings(
    client_id: Option<String>,
    client_secret: Option<Secret>,
    has_public_url: bool,
    has_token_keys: bool,
) -> Result<Option<OAuthSettings>, ConfigError> {
    let client_id = client_id
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty());
    let client_secret = client_secret.filter(|s| !s.expose().is_empty());
    let (client_id, client_secret) = match (client_id, client_secret) {
        (None, None) => return Ok(None),
        (Some(id), Some(secret)) => (id, secret),
        _ => {
            return Err(ConfigError::Invalid(
                "OAuth needs both LEARNLOOP_SLACK_CLIENT_ID and LEARNLOOP_SLACK_CLIENT_SECRET"
                    .into(),
            ));
        }
    };
    if !has_public_url {
        return Err(ConfigError::Invalid(
            "OAuth (LEARNLOOP_SLACK_CLIENT_ID) needs LEARNLOOP_PUBLIC_URL, the https address \
             Slack sends installers back to"
                .into(),
        ));
    }
    if !has_token_keys {
        return Err(ConfigError::Invalid(
            "OAuth (LEARNLOOP_SLACK_CLIENT_ID) stores a bot token per workspace and refuses to \
             keep them in plain text: set LEARNLOOP_TOKEN_KEYS=k1:$(openssl rand -base64 32) \
             (or LEARNLOOP_TOKEN_KEYS_FILE)"
                .into(),
        ));
    }
    Ok(Some(OAuthSettings {
        client_id,
        client_secret,
    }))
}

impl RawSecurity {
    /// Reads the keys (from the file when one is named) and checks they parse.
    fn validate(self) -> Result<SecuritySettings, ConfigError> {
        let from_file = match self.token_keys_file.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(path) => Some(Secret::new(std::fs::read_to_string(path).map_err(
                |source| ConfigError::Read {
                    path: format!("{path} (LEARNLOOP_TOKEN_KEYS_FILE)"),
                    source,
                },
            )?)),
        };
        let token_keys = self
            .token_keys
            .or(from_file)
            .filter(|keys| !keys.expose().trim().is_empty());
        if let Some(keys) = &token_keys {
            crate::sealing::Keyring::parse(keys)
                .map_err(|e| ConfigError::Invalid(format!("LEARNLOOP_TOKEN_KEYS: {e}")))?;
        }
        Ok(SecuritySettings { token_keys })
    }
}

impl Settings {
    /// The effective configuration as TOML, secrets shown as `[redacted]`.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render settings: {e}\n"))
    }
}

fn parse_toml(origin: &str, text: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>()
        .map_err(|e| ConfigError::Syntax {
            path: origin.to_owned(),
            message: e.to_string(),
        })
}

/// Deep-merges `overlay` into `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => {
                merge(existing, incoming)
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

fn set_dotted(tree: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let last = parts.pop().expect("dotted keys are non-empty");
    let mut table = tree;
    for part in parts {
        let entry = table
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        table = entry.as_table_mut().expect("just made a table");
    }
    table.insert(last.to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn socket_mode_and_oauth_refuse_to_start_half_configured() {
        let err = Settings::load_from(None, &env(&[("LEARNLOOP_SLACK_APP_TOKEN", "xoxb-wrong")]))
            .unwrap_err();
        assert!(err.to_string().contains("xapp-"), "{err}");
        let ok =
            Settings::load_from(None, &env(&[("LEARNLOOP_SLACK_APP_TOKEN", "xapp-1-A")])).unwrap();
        assert!(ok.slack.app_token.is_some());

        let client = [
            ("LEARNLOOP_SLACK_CLIENT_ID", "1.2"),
            ("LEARNLOOP_SLACK_CLIENT_SECRET", "shh"),
        ];
        let err = Settings::load_from(None, &env(&client[..1])).unwrap_err();
        assert!(err.to_string().contains("both"), "{err}");
        let err = Settings::load_from(None, &env(&client)).unwrap_err();
        assert!(err.to_string().contains("LEARNLOOP_PUBLIC_URL"), "{err}");
        let mut with_url = client.to_vec();
        with_url.push(("LEARNLOOP_PUBLIC_URL", "https://learn.example.com/"));
        let err = Settings::load_from(None, &env(&with_url)).unwrap_err();
        assert!(err.to_string().contains("LEARNLOOP_TOKEN_KEYS"), "{err}");
        with_url.push(("LEARNLOOP_TOKEN_KEYS", "k1:short"));
        let err = Settings::load_from(None, &env(&with_url)).unwrap_err();
        assert!(err.to_string().contains("32"), "{err}");
        with_url.pop();
        with_url.push(("LEARNLOOP_TOKEN_KEYS", crate::sealing::test_keys::TWO));
        let settings = Settings::load_from(None, &env(&with_url)).unwrap();
        assert_eq!(settings.slack.oauth.unwrap().client_id, "1.2");
        assert_eq!(
            settings.http.public_url.as_deref(),
            Some("https://learn.example.com")
        );
        let shown = Settings::load_from(None, &env(&with_url))
            .unwrap()
            .to_redacted_toml();
        assert!(
            !shown.contains("AgICAgIC") && !shown.contains("shh"),
            "{shown}"
        );
    }

    #[test]
    fn token_keys_come_from_a_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, format!("{}\n", crate::sealing::test_keys::OLD)).unwrap();
        let settings = Settings::load_from(
            None,
            &env(&[("LEARNLOOP_TOKEN_KEYS_FILE", path.to_str().unwrap())]),
        )
        .unwrap();
        assert!(settings.security.token_keys.is_some());
        let err = Settings::load_from(
            None,
            &env(&[("LEARNLOOP_TOKEN_KEYS_FILE", "/nonexistent/keys")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("LEARNLOOP_TOKEN_KEYS_FILE"),
            "{err}"
        );
    }

    #[test]
    fn defaults_match_the_product_spec() {
        let s = Settings::load_from(None, &env(&[])).unwrap();
        assert_eq!(s.http.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(
            s.database.url,
            DatabaseUrl::Sqlite("sqlite://learnloop.db".into())
        );
        assert_eq!(s.slack.api_url, "https://slack.com/api");
        assert!(s.slack.signing_secret.is_none());
        assert_eq!(s.log, "info");
        assert_eq!(s.http.body_limit_bytes, 1024 * 1024);
        assert_eq!(s.retention.outbox_days, 7);
        assert_eq!(s.retention.failed_outbox_days, 30);
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("extra.toml");
        std::fs::write(
            &path,
            "log = \"debug\"\n[http]\nlisten = \"0.0.0.0:8080\"\n",
        )
        .unwrap();
        let s = Settings::load_from(Some(&path), &env(&[])).unwrap();
        assert_eq!(s.http.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(s.log, "debug");
        assert_eq!(
            s.http.request_timeout_secs, 10,
            "untouched keys keep their default"
        );

        let s =
            Settings::load_from(Some(&path), &env(&[("LEARNLOOP_LISTEN", "127.0.0.1:9")])).unwrap();
        assert_eq!(s.http.listen.to_string(), "127.0.0.1:9");
    }

    #[test]
    fn invalid_values_are_named() {
        let err =
            Settings::load_from(None, &env(&[("LEARNLOOP_LISTEN", "localhost")])).unwrap_err();
        assert!(err.to_string().contains("LEARNLOOP_LISTEN"), "{err}");
        let err = Settings::load_from(None, &env(&[("LEARNLOOP_DATABASE_URL", "mysql://x")]))
            .unwrap_err();
        assert!(err.to_string().contains("unknown scheme `mysql`"), "{err}");
        let err = Settings::load_from(None, &env(&[("LEARNLOOP_LOG", "info,[[")])).unwrap_err();
        assert!(err.to_string().contains("LEARNLOOP_LOG"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zone.toml");
        std::fs::write(&path, "[workspace]\ndefault_time_zone = \"Mars/Olympus\"\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
        std::fs::write(&path, "[workspace]\nholidays = [\"2026-12-32\"]\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("2026-12-32"), "{err}");
    }

    #[test]
    fn teams_tenants_default_to_the_bots_own() {
        let s = Settings::load_from(None, &env(&[("LEARNLOOP_TEAMS_TENANT_ID", "t1")])).unwrap();
        assert_eq!(s.teams.tenants, ["t1"]);
        let s = Settings::load_from(
            None,
            &env(&[
                ("LEARNLOOP_TEAMS_TENANT_ID", "t1"),
                ("LEARNLOOP_TEAMS_TENANTS", " t2, t3 ,"),
            ]),
        )
        .unwrap();
        assert_eq!(s.teams.tenants, ["t2", "t3"]);
        assert!(
            Settings::load_from(None, &env(&[]))
                .unwrap()
                .teams
                .tenants
                .is_empty()
        );
        let err =
            Settings::load_from(None, &env(&[("LEARNLOOP_METRICS_LISTEN", "nine")])).unwrap_err();
        assert!(
            err.to_string().contains("LEARNLOOP_METRICS_LISTEN"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_in_a_file_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("typo.toml");
        std::fs::write(&path, "[http]\nlisen = \"0.0.0.0:1\"\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn secrets_never_show() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("LEARNLOOP_SLACK_SIGNING_SECRET", "shh-signing"),
                ("LEARNLOOP_SLACK_BOT_TOKEN", "xoxb-secret-token"),
                ("LEARNLOOP_DATABASE_URL", "postgres://user:pw@localhost/db"),
            ]),
        )
        .unwrap();
        for shown in [format!("{s:?}"), s.to_redacted_toml()] {
            assert!(!shown.contains("shh-signing"), "{shown}");
            assert!(!shown.contains("xoxb-secret-token"), "{shown}");
            assert!(!shown.contains("pw@"), "{shown}");
        }
        assert_eq!(s.slack.signing_secret.unwrap().expose(), "shh-signing");
    }

    #[test]
    fn follow_up_times_are_checked() {
        let s = Settings::load_from(None, &env(&[])).unwrap();
        assert_eq!(s.followups.hour, 10);
        assert_eq!(s.workspace.workdays.len(), 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[workspace]\nworkdays = [\"Mon\", \"Funday\"]\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("`Funday` is not a day"), "{err}");
        std::fs::write(&path, "[followups]\nhour = 24\n").unwrap();
        let err = Settings::load_from(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("followups.hour is 24"), "{err}");
    }
}
