//! One shape for every list the API answers: a page of items in a stable order and a
//! cursor to the next page, so that inserts while a client pages never shift a page.

use serde::{Deserialize, Serialize};

/// Most items one page may hold; also the default.
pub const MAX_PAGE_LIMIT: u32 = 100;

/// What page a list call asks for (`?limit=&cursor=`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    /// 1 to 100; 100 when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (an id of the list's items); the first
    /// page when left out.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        param(pattern = "^[a-z]{2,4}_[0-9a-hjkmnp-tv-z]{26}$")
    )]
    pub cursor: Option<String>,
}

/// One page of a list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A list with nothing in it.
    pub fn empty() -> Self {
        Self {
            data: Vec::new(),
            has_more: false,
            next_cursor: None,
        }
    }
}
