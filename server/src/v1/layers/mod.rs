//! The layers around the `/v1` routes, in the order a request passes them: `cors`
//! (outermost: answers preflights, and lets the browser read an answer when the key's
//! app allows the calling origin), `request_log` (gives every answer its `Request-Id`
//! and hands the answers that name a key to the request log), then, on the
//! key-authenticated routes only, `key_auth` (reads the key and admits the call under
//! its limits), which writes the limits' headers with `rate_headers`.

pub mod cors;
pub mod key_auth;
pub mod rate_headers;
pub mod request_log;
