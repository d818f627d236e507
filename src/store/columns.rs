//! Time columns as rows are read: each column keeps the unit it was created with
//! (Unix seconds, or milliseconds for the outbox's delivery columns and the send
//! rates), and a row field is a [`Timestamp`] whatever the unit. A field names its
//! column's unit once, `#[sqlx(try_from = "Seconds")]` (or `OptionalSeconds`,
//! `Millis`, `OptionalMillis`); binding goes the other way with
//! `Timestamp::unix_seconds` or `Timestamp::millis`.

use sqlx::{Database, Decode, Type, error::BoxDynError};

use crate::domain::Timestamp;

/// A column type that is a `BIGINT` (SQLite `INTEGER`) to the database.
macro_rules! stored_as_bigint {
    ($column:ty) => {
        impl<DB: Database> Type<DB> for $column
        where
            i64: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as Type<DB>>::compatible(ty)
            }
        }
    };
}

macro_rules! time_column {
    ($(#[$doc:meta])* $name:ident, $optional:ident, $to_timestamp:path) => {
        $(#[$doc])*
        pub struct $name(i64);

        /// The same, in a column that may be NULL.
        pub struct $optional(Option<i64>);

        impl From<$name> for Timestamp {
            fn from(column: $name) -> Self {
                $to_timestamp(column.0)
            }
        }

        impl From<$optional> for Option<Timestamp> {
            fn from(column: $optional) -> Self {
                column.0.map($to_timestamp)
            }
        }

        stored_as_bigint!($name);
        stored_as_bigint!($optional);

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            i64: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<'r, DB>>::decode(value).map(Self)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $optional
        where
            Option<i64>: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <Option<i64> as Decode<'r, DB>>::decode(value).map(Self)
            }
        }
    };
}

time_column!(
    /// A column of Unix seconds.
    Seconds,
    OptionalSeconds,
    Timestamp::from_unix_seconds
);
time_column!(
    /// A column of Unix milliseconds.
    Millis,
    OptionalMillis,
    Timestamp::from_millis
);
