//! The `learnloop` binary: parse the command line, load settings, run.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use learnloop::app::templates::Templates;
use learnloop::config::Settings;
use learnloop::startup::App;
use learnloop::store::Store;
use learnloop::telemetry;

#[derive(Parser)]
#[command(
    name = "learnloop",
    version,
    about = "A Slack and Teams bot that helps teams learn from their own work"
)]
struct Cli {
    /// A TOML file with settings on top of the built-in defaults (env vars still win).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrating the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted; fail on an invalid value.
    CheckConfig,
    /// Exit 0 when the local server answers `GET /healthz` (for container health checks).
    Healthcheck,
    /// A consistent copy of the SQLite database while the service runs (`VACUUM INTO`).
    Backup {
        /// Where the copy goes; an existing file is never overwritten.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Move an install from SQLite to PostgreSQL: every table copied, then verified by
    /// its row count and a checksum. Stop the service first. A run that stopped
    /// resumes where it was; a PostgreSQL database that already holds data is refused.
    MigrateData {
        /// The SQLite database to copy, e.g. sqlite://learnloop.db
        #[arg(long, value_name = "SQLITE_URL")]
        from: String,
        /// The PostgreSQL database to fill (migrated here first), e.g. postgres://…
        #[arg(long, value_name = "POSTGRES_URL")]
        to: String,
    },
    /// The workspaces learnloop holds data for, and erasing one of them.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Export a workspace's lessons, action items, follow-ups or debriefs as CSV or
    /// JSON, or a Markdown "lessons learned" document per debrief. Private lessons are
    /// included (marked by their visibility): treat the file as the team's data.
    Export {
        /// The workspace id, as `workspace list` shows it.
        #[arg(long)]
        workspace: i64,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// What to export (Markdown is always one document per debrief).
        #[arg(long, value_enum, default_value = "lessons")]
        what: ExportWhat,
        /// The file to write (readable by its owner only); standard output without it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
    Markdown,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportWhat {
    Lessons,
    Actions,
    FollowUps,
    Debriefs,
}

#[derive(Subcommand)]
enum WorkspaceCommand {
    /// Every workspace: id, platform, platform id, name, state, first seen.
    List,
    /// Erase every row of one workspace (lessons, debriefs, goals, people, messages…).
    /// Run it with the service stopped.
    Delete {
        /// The workspace id, as `workspace list` shows it.
        id: i64,
        /// Confirms the erasure; without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("learnloop: {err}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::CheckConfig => {
            if !print_out(&settings.to_redacted_toml()) {
                return ExitCode::SUCCESS;
            }
            return match Templates::load_with_default(
                &settings.templates.dir,
                &settings.debriefs.default_template,
            ) {
                Ok(templates) => {
                    if !print_out(&format!("# templates: {}\n", templates.names().join(", "))) {
                        return ExitCode::SUCCESS;
                    }
                    eprintln!("learnloop: configuration is valid");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("learnloop: {err}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Healthcheck => return healthcheck(settings.http.listen),
        Command::Serve
        | Command::Migrate
        | Command::Workspace(_)
        | Command::Backup { .. }
        | Command::Export { .. }
        | Command::MigrateData { .. } => {}
    }
    telemetry::init(&settings.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("learnloop: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => {
                let app = App::build(settings).await?;
                app.run_until_stopped(shutdown_signal()).await
            }
            Command::Migrate => {
                let store = Store::connect(&settings.database).await?;
                store.migrate().await?;
                store.close().await;
                tracing::info!("database is migrated");
                Ok(())
            }
            Command::Workspace(command) => workspace_command(&settings, command).await,
            Command::Backup { to } => {
                let store = Store::connect_existing(&settings.database).await?;
                let copied = store.backup_to(&to).await;
                store.close().await;
                copied?;
                print_out(&format!("backed up the database to {}\n", to.display()));
                Ok(())
            }
            Command::MigrateData { from, to } => migrate_data(&from, &to).await,
            Command::Export {
                workspace,
                format,
                what,
                out,
            } => export(&settings, workspace, format, what, out).await,
            Command::CheckConfig | Command::Healthcheck => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(
                error = format!("{err:#}"),
                "learnloop stopped with an error"
            );
            eprintln!("learnloop: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `learnloop migrate-data`: see [`learnloop::store::transfer`].
async fn migrate_data(from: &str, to: &str) -> anyhow::Result<()> {
    use learnloop::config::{DatabaseSettings, DatabaseUrl};
    use learnloop::store::transfer::Import;
    let settings = |url: DatabaseUrl| DatabaseSettings {
        url,
        max_connections: 4,
        busy_timeout_ms: 5000,
    };
    let source_url: DatabaseUrl = from.parse()?;
    let target_url: DatabaseUrl = to.parse()?;
    if !matches!(source_url, DatabaseUrl::Sqlite(_))
        || !matches!(target_url, DatabaseUrl::Postgres(_))
    {
        anyhow::bail!("migrate-data copies --from sqlite://… --to postgres://…");
    }
    let source = Store::connect_existing(&settings(source_url)).await?;
    let target = Store::connect(&settings(target_url)).await?;
    target.migrate().await?;
    let mut import = Import::prepare(&source, &target).await?;
    let totals: std::collections::HashMap<String, u64> = import
        .tables()
        .iter()
        .map(|t| (t.name.clone(), t.rows))
        .collect();
    let resumed = import.tables().iter().filter(|t| t.done).count();
    if resumed > 0 {
        eprintln!("resuming: {resumed} tables were copied and verified by an earlier run");
    }
    let mut progress = Progress::new(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let mut report = String::from("table\trows\tchecksum\n");
    while let Some(copied) = import
        .copy_next(|table, rows| progress.rows(table, rows, totals[table]))
        .await?
    {
        progress.table_done(&copied.name, copied.rows);
        report.push_str(&format!(
            "{}\t{}\t{}\n",
            copied.name, copied.rows, copied.checksum
        ));
    }
    import.finish().await?;
    source.close().await;
    target.close().await;
    print_out(&report);
    eprintln!("every table is copied and verified; point LEARNLOOP_DATABASE_URL at PostgreSQL");
    Ok(())
}

/// How far `migrate-data` is: a bar redrawn in place on a terminal, a line per table
/// otherwise (logs, CI).
struct Progress {
    terminal: bool,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        Self { terminal }
    }

    fn rows(&mut self, table: &str, rows: u64, total: u64) {
        if !self.terminal {
            return;
        }
        const WIDTH: u64 = 30;
        let filled = (rows * WIDTH)
            .checked_div(total)
            .unwrap_or(WIDTH)
            .min(WIDTH) as usize;
        eprint!(
            "\r{table:<24} [{}{}] {rows}/{total}",
            "#".repeat(filled),
            ".".repeat(WIDTH as usize - filled)
        );
    }

    fn table_done(&mut self, table: &str, rows: u64) {
        if self.terminal {
            eprintln!("\r{table:<24} {rows} rows, verified{:30}", "");
        } else {
            eprintln!("copied {table}: {rows} rows, verified");
        }
    }
}

/// `learnloop export`: see [`learnloop::app::export`].
async fn export(
    settings: &Settings,
    workspace: i64,
    format: ExportFormat,
    what: ExportWhat,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use learnloop::app::export::{self, Exported, Format};
    let format = match format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Json => Format::Json,
        ExportFormat::Markdown => Format::Markdown,
    };
    let what = match what {
        ExportWhat::Lessons => Exported::Lessons,
        ExportWhat::Actions => Exported::Actions,
        ExportWhat::FollowUps => Exported::FollowUps,
        ExportWhat::Debriefs => Exported::Debriefs,
    };
    let store = Store::connect_existing(&settings.database).await?;
    let id = learnloop::store::WorkspaceId(workspace);
    if store.workspace_by_id(id).await.is_err() {
        store.close().await;
        anyhow::bail!("there is no workspace {workspace} (see `learnloop workspace list`)");
    }
    let mut file;
    let mut stdout;
    let writer: &mut dyn Write = match &out {
        Some(path) => {
            file = std::io::BufWriter::new(private_file(path)?);
            &mut file
        }
        None => {
            stdout = std::io::BufWriter::new(std::io::stdout().lock());
            &mut stdout
        }
    };
    // A bar only when the export goes to a file and a person watches the terminal.
    let mut bar =
        Progress::new(out.is_some() && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let everything = learnloop::store::ExportScope::everything(id);
    let exported = export::export(
        &store,
        everything,
        what,
        format,
        writer,
        &mut |done, total| bar.rows("exporting", done, total),
    )
    .await;
    store.close().await;
    let rows = exported?;
    if let Some(path) = out {
        bar.table_done("exported", rows);
        eprintln!("wrote {rows} rows to {}", path.display());
    }
    Ok(())
}

/// A file only its owner may read (an export holds the team's private lessons).
fn private_file(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(path)
        .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
    // An existing file keeps its mode when opened: narrow it too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(file)
}

/// `learnloop workspace list|delete`.
async fn workspace_command(settings: &Settings, command: WorkspaceCommand) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    store.migrate().await?;
    let result = match command {
        WorkspaceCommand::List => {
            let mut out = String::from("id\tplatform\tplatform id\tname\tstate\tfirst seen\n");
            for workspace in store.list_workspaces().await? {
                let state = match (workspace.uninstalled_at, workspace.installation.as_deref()) {
                    (Some(_), _) => "uninstalled",
                    (None, Some("broken")) => "broken (install again)",
                    (None, Some(_)) => "installed (oauth)",
                    (None, None) => "installed",
                };
                let first_seen = workspace.created_at.to_utc().format("%Y-%m-%d").to_string();
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{state}\t{first_seen}\n",
                    workspace.id,
                    workspace.platform,
                    workspace.external_id,
                    workspace.name.as_deref().unwrap_or("-"),
                ));
            }
            print_out(&out);
            Ok(())
        }
        WorkspaceCommand::Delete { id, yes: false } => Err(anyhow::anyhow!(
            "this erases every lesson, debrief, goal and message of workspace {id} and cannot be \
             undone; run it again with --yes to go ahead"
        )),
        WorkspaceCommand::Delete { id, yes: true } => {
            if store
                .delete_workspace(learnloop::store::WorkspaceId(id))
                .await?
            {
                print_out(&format!(
                    "erased workspace {id} and every row that belonged to it\n"
                ));
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "there is no workspace {id} (see `learnloop workspace list`)"
                ))
            }
        }
    };
    store.close().await;
    result
}

/// Writes to standard output; `false` when the reader went away (`check-config |
/// head`), which ends the command quietly instead of panicking as `print!` would.
fn print_out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => true,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(err) => {
            eprintln!("learnloop: cannot write the configuration: {err}");
            false
        }
    }
}

/// Asks the server on `listen` for `/healthz` with a plain blocking request: the
/// runtime image has no curl, and a health check should not need a runtime.
fn healthcheck(listen: SocketAddr) -> ExitCode {
    let target = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            SocketAddr::from(([127, 0, 0, 1], listen.port()))
        }
        ip if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, listen.port()))
        }
        _ => listen,
    };
    let answer = (|| -> std::io::Result<String> {
        let timeout = Some(Duration::from_secs(3));
        let mut stream = TcpStream::connect_timeout(&target, Duration::from_secs(3))?;
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(timeout)?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    })();
    match answer {
        Ok(response) if response.starts_with("HTTP/1.1 200") => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!(
                "learnloop: unhealthy: {}",
                response.lines().next().unwrap_or("empty answer")
            );
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("learnloop: unhealthy: cannot reach {target}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what container runtimes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
