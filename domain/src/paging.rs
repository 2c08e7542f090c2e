//! Keyset paging for every list (`model::Page`): items in id order (ids sort by
//! creation), the cursor is the last id of a page, and one more row than asked is read
//! to know whether another page follows.

use gatehouse_model::{MAX_PAGE_LIMIT, Page, PageRequest};

use crate::error::DomainError;

/// A checked page request: how many rows to read and after which id.
#[derive(Debug, Clone)]
pub(crate) struct Keyset {
    pub limit: u32,
    pub after: Option<String>,
}

impl Keyset {
    /// Checks `limit` (1 to 100) and that `cursor` is an id of the listed kind.
    pub fn from_request(
        request: &PageRequest,
        cursor_is_valid: impl Fn(&str) -> bool,
    ) -> Result<Self, DomainError> {
        let limit = request.limit.unwrap_or(MAX_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(DomainError::field(
                "limit",
                format!("Ask for 1 to {MAX_PAGE_LIMIT} items."),
            ));
        }
        if let Some(cursor) = &request.cursor
            && !cursor_is_valid(cursor)
        {
            return Err(DomainError::field(
                "cursor",
                "Use the next_cursor of the previous page.",
            ));
        }
        Ok(Self {
            limit,
            after: request.cursor.clone(),
        })
    }

    /// Rows to read: one more than the page holds.
    pub fn rows_to_read(&self) -> i64 {
        i64::from(self.limit) + 1
    }

    /// The page of `rows` (read with [`Self::rows_to_read`]), with the cursor taken
    /// from the last item kept.
    pub fn page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> String) -> Page<T> {
        let has_more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = if has_more {
            rows.last().map(id_of)
        } else {
            None
        };
        Page {
            data: rows,
            has_more,
            next_cursor,
        }
    }
}
