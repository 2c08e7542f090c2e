//! A segment of the request log: the entries of one app and mode from one flush (at
//! most [`MAX_ENTRIES`], spanning at most [`MAX_SPAN_MS`] of request ids), stored as one
//! row whose body is compact: the strings the entries repeat (key ids, routes, codes,
//! origins, addresses) once, then each entry as numbers and references to them. Logging
//! then costs a row per flush and app, not a row per request. No I/O here.
//!
//! Body, version 1: the byte `1`; the first entry's time (zigzag varint); the string
//! count and each string (varint length, UTF-8 bytes); the entry count; then per entry,
//! in ascending id order: the request id's ULID (16 bytes, big-endian), its time minus
//! the first entry's (zigzag varint), and varints for the key, method and route (string
//! numbers), the status, the error code, verify code, origin and client address (string
//! number + 1, 0 for none) and the latency in microseconds (zigzag).

use std::collections::{BTreeSet, HashMap};

/// Entries a segment holds at most: reading the newest page decodes at most this many.
pub const MAX_ENTRIES: usize = 1_000;
/// The most a segment's request ids may span: an entry of a request that started
/// longer before the others goes into a segment of its own, so that the entries with
/// ids below a cursor are found among the segments ending at most this much above it.
pub const MAX_SPAN_MS: i64 = 60_000;

const VERSION: u8 = 1;

/// One entry as it is encoded (borrowed from a buffered request or a legacy row).
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a> {
    /// The request id's ULID.
    pub id: u128,
    pub occurred_at_ms: i64,
    pub key_id: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub error_code: Option<&'a str>,
    pub verify_code: Option<&'a str>,
    pub latency_us: i64,
    pub origin: Option<&'a str>,
    pub client_ip: Option<&'a str>,
}

/// A decoded segment: its strings and its entries, which refer to them by number.
#[derive(Debug)]
pub struct Decoded {
    pub strings: Vec<String>,
    pub entries: Vec<DecodedEntry>,
}

/// One entry of a decoded segment; text fields are numbers in [`Decoded::strings`].
#[derive(Debug, Clone, Copy)]
pub struct DecodedEntry {
    pub id: u128,
    pub occurred_at_ms: i64,
    pub key_id: u32,
    pub method: u32,
    pub route: u32,
    pub status: u16,
    pub error_code: Option<u32>,
    pub verify_code: Option<u32>,
    pub latency_us: i64,
    pub origin: Option<u32>,
    pub client_ip: Option<u32>,
}

impl Decoded {
    pub fn text(&self, number: u32) -> &str {
        &self.strings[number as usize]
    }

    pub fn optional_text(&self, number: Option<u32>) -> Option<&str> {
        number.map(|number| self.text(number))
    }
}

/// A body that does not decode (never written by this code: a damaged row).
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

/// The millisecond of a request id's ULID.
pub fn id_ms(id: u128) -> i64 {
    (id >> 80) as i64
}

/// Encodes `entries`, which must be in ascending id order.
pub fn encode(entries: &[EntryFields<'_>]) -> Vec<u8> {
    debug_assert!(entries.windows(2).all(|pair| pair[0].id <= pair[1].id));
    let mut table = StringTable::default();
    let base = entries.first().map_or(0, |entry| entry.occurred_at_ms);
    let mut encoded_entries = Vec::with_capacity(entries.len() * 32);
    for entry in entries {
        encoded_entries.extend_from_slice(&entry.id.to_be_bytes());
        put_signed(&mut encoded_entries, entry.occurred_at_ms - base);
        put(&mut encoded_entries, table.number_of(entry.key_id));
        put(&mut encoded_entries, table.number_of(entry.method));
        put(&mut encoded_entries, table.number_of(entry.route));
        put(&mut encoded_entries, u64::from(entry.status));
        for optional in [
            entry.error_code,
            entry.verify_code,
            entry.origin,
            entry.client_ip,
        ] {
            put(
                &mut encoded_entries,
                optional.map_or(0, |text| table.number_of(text) + 1),
            );
        }
        put_signed(&mut encoded_entries, entry.latency_us);
    }
    let strings = table.strings;
    let mut body = Vec::with_capacity(encoded_entries.len() + strings.len() * 32 + 16);
    body.push(VERSION);
    put_signed(&mut body, base);
    put(&mut body, strings.len() as u64);
    for text in &strings {
        put(&mut body, text.len() as u64);
        body.extend_from_slice(text.as_bytes());
    }
    put(&mut body, entries.len() as u64);
    body.extend_from_slice(&encoded_entries);
    body
}

/// Decodes a body written by [`encode`].
pub fn decode(body: &[u8]) -> Result<Decoded, Corrupt> {
    let mut reader = Reader { body, at: 0 };
    if reader.byte()? != VERSION {
        return Err(Corrupt);
    }
    let base = reader.signed()?;
    let string_count = reader.length()?;
    let mut strings = Vec::with_capacity(string_count);
    for _ in 0..string_count {
        let length = reader.length()?;
        let bytes = reader.bytes(length)?;
        strings.push(String::from_utf8(bytes.to_vec()).map_err(|_| Corrupt)?);
    }
    let entry_count = reader.length()?;
    let string_number = |value: u64| -> Result<u32, Corrupt> {
        u32::try_from(value)
            .ok()
            .filter(|number| (*number as usize) < string_count)
            .ok_or(Corrupt)
    };
    let optional_number = |value: u64| -> Result<Option<u32>, Corrupt> {
        if value == 0 {
            Ok(None)
        } else {
            string_number(value - 1).map(Some)
        }
    };
    let mut entries = Vec::with_capacity(entry_count);
    for _ in 0..entry_count {
        let id = u128::from_be_bytes(reader.bytes(16)?.try_into().map_err(|_| Corrupt)?);
        let occurred_at_ms = base.checked_add(reader.signed()?).ok_or(Corrupt)?;
        let key_id = string_number(reader.varint()?)?;
        let method = string_number(reader.varint()?)?;
        let route = string_number(reader.varint()?)?;
        let status = u16::try_from(reader.varint()?).map_err(|_| Corrupt)?;
        let error_code = optional_number(reader.varint()?)?;
        let verify_code = optional_number(reader.varint()?)?;
        let origin = optional_number(reader.varint()?)?;
        let client_ip = optional_number(reader.varint()?)?;
        let latency_us = reader.signed()?;
        entries.push(DecodedEntry {
            id,
            occurred_at_ms,
            key_id,
            method,
            route,
            status,
            error_code,
            verify_code,
            latency_us,
            origin,
            client_ip,
        });
    }
    if reader.at != body.len() {
        return Err(Corrupt);
    }
    Ok(Decoded { strings, entries })
}

/// The search terms of a segment's entries: what a filter can find it by without
/// reading its body (`k:` a key id, `e:` an error code, `r:` a route, `s:` a status
/// class such as `s:4xx`).
pub fn terms(entries: &[EntryFields<'_>]) -> BTreeSet<String> {
    // Distinct values first (borrowed), then one string per term.
    let mut keys = BTreeSet::new();
    let mut routes = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut classes = BTreeSet::new();
    for entry in entries {
        keys.insert(entry.key_id);
        routes.insert(entry.route);
        codes.extend(entry.error_code);
        classes.insert(entry.status / 100);
    }
    let keys = keys.into_iter().map(Term::Key);
    let routes = routes.into_iter().map(Term::Route);
    let codes = codes.into_iter().map(Term::ErrorCode);
    let classes = classes
        .into_iter()
        .map(|class| Term::StatusClass(class * 100));
    keys.chain(routes)
        .chain(codes)
        .chain(classes)
        .filter_map(Term::text)
        .collect()
}

/// What a segment can be found by.
#[derive(Debug, Clone, Copy)]
pub enum Term<'a> {
    Key(&'a str),
    ErrorCode(&'a str),
    Route(&'a str),
    /// Any status of the class (`4xx`: 400 to 499).
    StatusClass(u16),
}

impl Term<'_> {
    /// The term as stored; `None` for a status outside 200 to 599 (no class names it).
    pub fn text(self) -> Option<String> {
        Some(match self {
            Self::Key(key) => format!("k:{key}"),
            Self::ErrorCode(code) => format!("e:{code}"),
            Self::Route(route) => format!("r:{route}"),
            Self::StatusClass(status) if (200..600).contains(&status) => {
                format!("s:{}xx", status / 100)
            }
            Self::StatusClass(_) => return None,
        })
    }
}

/// The strings of a segment being encoded, each numbered once.
#[derive(Default)]
struct StringTable<'a> {
    numbers: HashMap<&'a str, u32, foldhash::fast::RandomState>,
    strings: Vec<&'a str>,
}

impl<'a> StringTable<'a> {
    fn number_of(&mut self, text: &'a str) -> u64 {
        let next = self.strings.len() as u32;
        let number = *self.numbers.entry(text).or_insert(next);
        if number == next {
            self.strings.push(text);
        }
        u64::from(number)
    }
}

fn put(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_signed(out: &mut Vec<u8>, value: i64) {
    put(out, ((value << 1) ^ (value >> 63)) as u64);
}

struct Reader<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Corrupt> {
        let byte = *self.body.get(self.at).ok_or(Corrupt)?;
        self.at += 1;
        Ok(byte)
    }

    fn bytes(&mut self, length: usize) -> Result<&'a [u8], Corrupt> {
        let end = self.at.checked_add(length).ok_or(Corrupt)?;
        let bytes = self.body.get(self.at..end).ok_or(Corrupt)?;
        self.at = end;
        Ok(bytes)
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Corrupt)
    }

    fn signed(&mut self) -> Result<i64, Corrupt> {
        let value = self.varint()?;
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    /// A count or length: never more than the bytes left (each item takes one at least).
    fn length(&mut self) -> Result<usize, Corrupt> {
        let value = usize::try_from(self.varint()?).map_err(|_| Corrupt)?;
        if value > self.body.len() - self.at {
            return Err(Corrupt);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{Corrupt, EntryFields, decode, encode, id_ms, terms};

    fn entry<'a>(
        id: u128,
        key_id: &'a str,
        status: u16,
        error_code: Option<&'a str>,
    ) -> EntryFields<'a> {
        EntryFields {
            id,
            occurred_at_ms: 1_780_000_000_000 + (id as i64 % 7),
            key_id,
            method: "GET",
            route: "/v1/api-keys/{id}",
            status,
            error_code,
            verify_code: None,
            latency_us: 150,
            origin: None,
            client_ip: Some("192.0.2.1"),
        }
    }

    #[test]
    fn every_field_reads_back_and_repeated_strings_are_stored_once() {
        let origin = "https://x.test/\"}',é漢";
        let entries = [
            entry(1, "key_a", 200, None),
            EntryFields {
                verify_code: Some("REVOKED"),
                origin: Some(origin),
                client_ip: None,
                latency_us: i64::MAX,
                occurred_at_ms: -5,
                ..entry(u128::MAX - 1, "key_b", 401, Some("api_key_revoked"))
            },
            entry(u128::MAX, "key_a", 200, None),
        ];
        let body = encode(&entries);
        let decoded = decode(&body).unwrap();
        assert_eq!(decoded.entries.len(), 3);
        for (written, read) in entries.iter().zip(&decoded.entries) {
            assert_eq!(read.id, written.id);
            assert_eq!(read.occurred_at_ms, written.occurred_at_ms);
            assert_eq!(decoded.text(read.key_id), written.key_id);
            assert_eq!(decoded.text(read.method), written.method);
            assert_eq!(decoded.text(read.route), written.route);
            assert_eq!(read.status, written.status);
            assert_eq!(decoded.optional_text(read.error_code), written.error_code);
            assert_eq!(decoded.optional_text(read.verify_code), written.verify_code);
            assert_eq!(read.latency_us, written.latency_us);
            assert_eq!(decoded.optional_text(read.origin), written.origin);
            assert_eq!(decoded.optional_text(read.client_ip), written.client_ip);
        }
        // key_a, GET, the route, the address, key_b, the codes, the origin: once each.
        assert_eq!(decoded.strings.len(), 8);
        // 1,000 calls of one key cost about 25 bytes each.
        let many: Vec<_> = (0..1_000u128)
            .map(|n| entry(n << 80 | n, "key_a", 200, None))
            .collect();
        assert!(encode(&many).len() < 1_000 * 30, "{}", encode(&many).len());
    }

    #[test]
    fn a_damaged_body_is_refused_not_read_past_its_end() {
        let body = encode(&[entry(7, "key_a", 200, None), entry(9, "key_b", 500, None)]);
        for cut in 0..body.len() {
            assert_eq!(decode(&body[..cut]).unwrap_err(), Corrupt, "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert_eq!(decode(&longer).unwrap_err(), Corrupt);
        let mut wrong_version = body;
        wrong_version[0] = 9;
        assert_eq!(decode(&wrong_version).unwrap_err(), Corrupt);
        // A count far beyond the body does not allocate for it.
        assert_eq!(
            decode(&[1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap_err(),
            Corrupt
        );
    }

    #[test]
    fn terms_name_each_key_route_code_and_status_class_once() {
        let entries = [
            entry(1, "key_a", 200, None),
            entry(2, "key_a", 204, None),
            entry(3, "key_b", 403, Some("insufficient_scope")),
            entry(4, "key_b", 101, None),
        ];
        let found: Vec<_> = terms(&entries).into_iter().collect();
        assert_eq!(
            found,
            [
                "e:insufficient_scope",
                "k:key_a",
                "k:key_b",
                "r:/v1/api-keys/{id}",
                "s:2xx",
                "s:4xx"
            ]
        );
        assert_eq!(id_ms(1_780_000_000_123u128 << 80 | 99), 1_780_000_000_123);
    }
}
