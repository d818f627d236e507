//! Server-rendered pages: the HTML shell every page shares, escaping, and the random
//! tokens and digests that the sign-in and install flows keep.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};

use crate::http::error::HttpError;

/// 32 random bytes as hex: a state, a session token, a CSRF token.
pub(crate) fn random_hex() -> Result<String, HttpError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| HttpError::Internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(hex::encode(bytes))
}

/// SHA-256 as hex: what is stored of a secret the browser holds.
pub(crate) fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Text for HTML, attributes included.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A whole page: the head with the one stylesheet, `header`, and `body` under the
/// title (escaped by maud wherever it is text).
pub(crate) fn document(title: &str, header: Markup, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · learnloop" }
                link rel="stylesheet" href="/app/style.css";
            }
            body {
                (header)
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
    .into_string()
}

/// A small page; `body` is HTML already escaped.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let body = maud::PreEscaped(body.to_owned());
    page_response(status, document(title, maud::html! {}, body))
}

/// An HTML page as a response: never cached (it is one person's), never framed, and
/// loading nothing but this service's own stylesheet.
pub(crate) fn page_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
            // No page of ours may be framed (clickjacking), nor load anything foreign.
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The value of cookie `name` the browser sent (not of a cookie whose name only
/// begins with it).
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_by_its_whole_name() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a_long=1; a=2; b=3".parse().unwrap());
        assert_eq!(cookie(&headers, "a"), Some("2"));
        assert_eq!(cookie(&headers, "a_long"), Some("1"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn escaped_text_cannot_open_a_tag_or_leave_an_attribute() {
        assert_eq!(
            escape("<b a=\"x\" b='y'>&"),
            "&lt;b a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;"
        );
    }
}
