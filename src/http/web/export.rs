//! `/app/export/{lessons,actions,followups,debriefs}.{csv,json,md}` for workspace admins:
//! the same export as `learnloop export`, streamed. The export runs on a blocking
//! thread and hands the body over in chunks through a small channel, so a workspace of
//! any size downloads in bounded memory, and a download the browser abandons stops it.
//! The channel is a std one: the export thread is inside the runtime's `block_on`,
//! where tokio's blocking send is refused; each chunk is received on a blocking thread.
//! The export says when it is done: a channel that closes without that (a panic) fails
//! the download instead of ending a file cut short, and a browser that stops reading
//! for a minute ends the export.

use std::io::{self, Write};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::mpsc;

use super::{Admin, not_found};
use crate::app::export::{Exported, Format, export};
use crate::http::AppState;
use crate::http::error::HttpError;
use crate::store::{ExportScope, Viewer};

/// Bytes gathered before a chunk is handed to the response.
const CHUNK: usize = 64 * 1024;
/// Chunks waiting for the browser before the export waits too.
const CHUNKS_IN_FLIGHT: usize = 4;
/// How long the export waits for a browser that stopped reading.
const STALLED_AFTER: Duration = Duration::from_secs(60);

/// What the export thread hands the response.
enum Chunk {
    Bytes(Bytes),
    /// The file is complete.
    End,
    Failed(io::Error),
}

/// What a file name asks for: `lessons.csv` → (lessons, CSV).
fn requested(file: &str) -> Option<(Exported, Format)> {
    let (what, extension) = file.split_once('.')?;
    let what = match what {
        "lessons" => Exported::Lessons,
        "actions" => Exported::Actions,
        "followups" => Exported::FollowUps,
        "debriefs" => Exported::Debriefs,
        _ => return None,
    };
    let format = match extension {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "md" => Format::Markdown,
        _ => return None,
    };
    Some((what, format))
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
        Format::Markdown => "text/markdown; charset=utf-8",
    }
}

/// Writes into chunks sent to the response; a closed response is a broken pipe.
struct ChunkWriter {
    buffer: Vec<u8>,
    chunks: mpsc::SyncSender<Chunk>,
}

/// Hands `chunk` over, waiting while the browser catches up, but not forever.
fn hand_over(chunks: &mpsc::SyncSender<Chunk>, chunk: Chunk) -> io::Result<()> {
    hand_over_within(chunks, chunk, STALLED_AFTER)
}

fn hand_over_within(
    chunks: &mpsc::SyncSender<Chunk>,
    mut chunk: Chunk,
    patience: Duration,
) -> io::Result<()> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        match chunks.try_send(chunk) {
            Ok(()) => return Ok(()),
            Err(mpsc::TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                chunk = back;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(mpsc::TrySendError::Full(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the browser stopped reading the download",
                ));
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the download was abandoned",
                ));
            }
        }
    }
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        hand_over(&self.chunks, Chunk::Bytes(chunk))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// `GET /app/export/FILE`.
pub async fn download(
    State(state): State<AppState>,
    Admin(signed): Admin,
    Path(file): Path<String>,
) -> Result<Response, HttpError> {
    let Some((what, format)) = requested(&file) else {
        return Ok(not_found(&signed));
    };
    let (sender, receiver) = mpsc::sync_channel(CHUNKS_IN_FLIGHT);
    let store = state.store.clone();
    let workspace = signed.workspace.id;
    // Owned by the export thread: the session it reads for.
    let (session, sees_public) = (signed.hash.clone(), signed.viewer().sees_public);
    let runtime = tokio::runtime::Handle::current();
    tracing::info!(workspace = workspace.0, file, "dashboard export");
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            buffer: Vec::with_capacity(CHUNK),
            chunks: sender.clone(),
        };
        // What the admin may see, as every page shows it: a private channel's lessons
        // stay with its members, whoever downloads.
        let viewer = Viewer {
            workspace,
            session: &session,
            sees_public,
        };
        let result = runtime.block_on(export(
            &store,
            ExportScope::seen_by(viewer),
            what,
            format,
            &mut writer,
            &mut |_, _| {},
        ));
        let flushed = result
            .map_err(io::Error::other)
            .and_then(|_| writer.flush());
        let last = match flushed {
            Ok(()) => Chunk::End,
            Err(err) => {
                tracing::warn!(error = %err, "a dashboard export stopped part way");
                // The browser sees the download fail rather than a file cut short.
                Chunk::Failed(err)
            }
        };
        let _ = hand_over(&sender, last);
    });
    let body = futures_util::stream::unfold(Some(receiver), |receiver| async move {
        let receiver = receiver?;
        let (next, receiver) = tokio::task::spawn_blocking(move || (receiver.recv(), receiver))
            .await
            .ok()?;
        match next {
            Ok(Chunk::Bytes(bytes)) => Some((Ok(bytes), Some(receiver))),
            Ok(Chunk::End) => None,
            Ok(Chunk::Failed(err)) => Some((Err(err), None)),
            // Closed without an end: the export died; so does the download.
            Err(_) => Some((
                Err(io::Error::other(
                    "the export ended before the file was complete",
                )),
                None,
            )),
        }
    });
    let name = format!(
        "attachment; filename=\"learnloop-{}-{file}\"",
        signed
            .workspace
            .external_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    );
    let mut response = (StatusCode::OK, Body::from_stream(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(format)));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_name_what_and_how_and_nothing_else() {
        assert_eq!(
            requested("lessons.csv"),
            Some((Exported::Lessons, Format::Csv))
        );
        assert_eq!(
            requested("followups.json"),
            Some((Exported::FollowUps, Format::Json))
        );
        assert_eq!(
            requested("debriefs.md"),
            Some((Exported::Debriefs, Format::Markdown))
        );
        assert_eq!(requested("lessons.xlsx"), None);
        assert_eq!(requested("secrets.csv"), None);
        assert_eq!(requested("lessons"), None);
    }

    #[test]
    fn an_export_gives_up_on_a_browser_that_stopped_reading_or_left() {
        let (chunks, browser) = mpsc::sync_channel(1);
        let chunk = || Chunk::Bytes(Bytes::from_static(b"x"));
        hand_over_within(&chunks, chunk(), Duration::from_millis(10)).unwrap();
        let stalled = hand_over_within(&chunks, chunk(), Duration::from_millis(50));
        assert_eq!(stalled.unwrap_err().kind(), io::ErrorKind::TimedOut);
        drop(browser);
        let gone = hand_over_within(&chunks, chunk(), Duration::from_millis(50));
        assert_eq!(gone.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }
}
