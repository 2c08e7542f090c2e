//! Whole numbers as JSON Schema counts them: `5` and `5.0` are both the integer 5 (a
//! client or an agent that writes every number as a float is not refused), `5.5` is not.

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

/// A whole number of `T`, read from any JSON number without a fraction.
struct Whole<T>(T);

impl<'de, T: TryFrom<i64> + TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WholeVisitor<T>(std::marker::PhantomData<T>);

        impl<T: TryFrom<i64> + TryFrom<u64>> Visitor<'_> for WholeVisitor<T> {
            type Value = Whole<T>;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a whole number in range")
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Whole<T>, E> {
                T::try_from(value)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Whole<T>, E> {
                T::try_from(value)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Whole<T>, E> {
                // Within ±2^53 every whole f64 is exact; beyond it no limit of ours reaches.
                const EXACT: f64 = 9_007_199_254_740_992.0;
                if value.fract() == 0.0 && value.abs() <= EXACT {
                    self.visit_i64(value as i64)
                } else {
                    Err(E::invalid_value(Unexpected::Float(value), &self))
                }
            }
        }

        deserializer.deserialize_any(WholeVisitor(std::marker::PhantomData))
    }
}

/// `#[serde(deserialize_with = "crate::whole_number::value")]`
pub(crate) fn value<'de, D: Deserializer<'de>, T: TryFrom<i64> + TryFrom<u64>>(
    deserializer: D,
) -> Result<T, D::Error> {
    Whole::deserialize(deserializer).map(|whole| whole.0)
}

/// An optional one: `null` (or, with `#[serde(default)]`, left out) is `None`.
pub(crate) fn optional<'de, D: Deserializer<'de>, T: TryFrom<i64> + TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Whole<T>>::deserialize(deserializer).map(|whole| whole.map(|whole| whole.0))
}

/// A patch's: left out (with `#[serde(default)]`) is `None`, `null` is `Some(None)`.
pub(crate) fn patched<'de, D: Deserializer<'de>, T: TryFrom<i64> + TryFrom<u64>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    optional(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug)]
    struct Limit {
        #[serde(deserialize_with = "super::value")]
        requests: i64,
        #[serde(default, deserialize_with = "super::optional")]
        per_second: Option<u32>,
        #[serde(default, deserialize_with = "super::patched")]
        patched: Option<Option<u32>>,
    }

    fn read(json: &str) -> Result<Limit, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_whole_number_may_be_written_as_a_float_and_nothing_else_passes() {
        let limit = read(r#"{"requests": 5.0, "per_second": 10.0, "patched": 3}"#).unwrap();
        assert_eq!(
            (limit.requests, limit.per_second, limit.patched),
            (5, Some(10), Some(Some(3)))
        );
        let limit = read(r#"{"requests": 5, "patched": null}"#).unwrap();
        assert_eq!((limit.per_second, limit.patched), (None, Some(None)));
        assert_eq!(read(r#"{"requests": 5}"#).unwrap().patched, None);
        for refused in [
            r#"{"requests": 5.5}"#,
            r#"{"requests": "5"}"#,
            r#"{"requests": 1e300}"#,
            r#"{"requests": 5, "per_second": -1}"#,
            r#"{"requests": 5, "per_second": 4294967296}"#,
            r#"{"requests": 5, "patched": 0.5}"#,
        ] {
            assert!(read(refused).is_err(), "{refused}");
        }
    }
}
