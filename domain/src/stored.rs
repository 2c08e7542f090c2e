//! Reading rows back. A stored value that does not parse as its type is our fault (a
//! bug, or a database edited by hand): it is answered as an internal error naming what
//! was read and the column, never the value, so no stored text reaches a client.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};

use crate::error::DomainError;
use crate::time;

/// One row of `what` (e.g. "API key"), read column by column.
pub(crate) struct Stored<'r> {
    row: &'r AnyRow,
    what: &'static str,
}

impl<'r> Stored<'r> {
    pub fn new(row: &'r AnyRow, what: &'static str) -> Self {
        Self { row, what }
    }

    /// A column as its SQL type.
    pub fn get<T: Decode<'r, Any> + Type<Any>>(&self, column: &str) -> Result<T, DomainError> {
        Ok(self.row.try_get(column)?)
    }

    /// A text column that must parse (an id, a wire enum).
    pub fn parsed<T>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, DomainError> {
        let text: String = self.get(column)?;
        parse(&text).ok_or_else(|| self.corrupt(column))
    }

    /// A nullable text column that must parse when present.
    pub fn parsed_optional<T>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, DomainError> {
        let text: Option<String> = self.get(column)?;
        text.map(|text| parse(&text).ok_or_else(|| self.corrupt(column)))
            .transpose()
    }

    /// A text column holding JSON.
    pub fn json<T: DeserializeOwned>(&self, column: &str) -> Result<T, DomainError> {
        let text: String = self.get(column)?;
        serde_json::from_str(&text).map_err(|_| self.corrupt(column))
    }

    /// A nullable text column holding JSON when present.
    pub fn json_optional<T: DeserializeOwned>(
        &self,
        column: &str,
    ) -> Result<Option<T>, DomainError> {
        let text: Option<String> = self.get(column)?;
        text.map(|text| serde_json::from_str(&text).map_err(|_| self.corrupt(column)))
            .transpose()
    }

    /// A BIGINT column of Unix milliseconds.
    pub fn time(&self, column: &str) -> Result<DateTime<Utc>, DomainError> {
        Ok(time::from_ms(self.get(column)?))
    }

    /// A nullable BIGINT column of Unix milliseconds.
    pub fn time_optional(&self, column: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        Ok(self.get::<Option<i64>>(column)?.map(time::from_ms))
    }

    fn corrupt(&self, column: &str) -> DomainError {
        corrupt(self.what, column)
    }
}

/// One value of `what` read by itself (a column of a tuple query) that must parse.
pub(crate) fn parsed<T>(
    what: &'static str,
    column: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, DomainError> {
    parse(text).ok_or_else(|| corrupt(what, column))
}

/// One JSON value of `what` read by itself.
pub(crate) fn json<T: DeserializeOwned>(
    what: &'static str,
    column: &str,
    text: &str,
) -> Result<T, DomainError> {
    serde_json::from_str(text).map_err(|_| corrupt(what, column))
}

fn corrupt(what: &str, column: &str) -> DomainError {
    DomainError::Internal(format!("stored {what} has an invalid {column}"))
}
