//! A token record as the memory store holds it: its strings in one
//! allocation.
//!
//! A [`TokenRecord`] owns seven to nine `String`s; a store that keeps a
//! million of them for their ten minutes spends most of its memory, and a
//! busy API a good part of its page faults, on those small allocations.
//! Held this way a record costs two allocations and about a third of the
//! memory, and is turned back into a `TokenRecord` when it is read.

use crate::record::{ConnectInfo, MintedBy, TokenRecord};
use crate::store::StoreError;
use crate::token::TokenHash;

/// The strings of a record, in the order they sit in [`CompactRecord::text`].
#[derive(Clone, Copy)]
enum Field {
    Protocol,
    ConsoleType,
    InstanceUuid,
    Host,
    AccessUrlBase,
    InternalAccessPath,
    UnixSocket,
    UserId,
    ProjectId,
}

const FIELDS: usize = 9;

const HAS_INTERNAL_ACCESS_PATH: u8 = 1;
const HAS_UNIX_SOCKET: u8 = 1 << 1;
const HAS_MINTED_BY: u8 = 1 << 2;

/// Everything a [`TokenRecord`] says but its hash (the store's key).
pub(super) struct CompactRecord {
    /// Every string, one after the other.
    text: Box<str>,
    /// Where each [`Field`] ends in `text`.
    ends: [u32; FIELDS],
    expires_at: u64,
    port: u16,
    tls_port: Option<u16>,
    /// Which optional strings the record has (an absent one is empty).
    present: u8,
}

impl CompactRecord {
    /// Packs `record`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] for strings of more than 4 GiB in all,
    /// which no record can have come by.
    pub(super) fn pack(record: &TokenRecord) -> Result<Self, StoreError> {
        let connect = &record.connect;
        let minted_by = record.minted_by.as_ref();
        let fields: [&str; FIELDS] = [
            &record.protocol,
            &record.console_type,
            &record.instance_uuid,
            &connect.host,
            &record.access_url_base,
            connect.internal_access_path.as_deref().unwrap_or(""),
            connect.unix_socket.as_deref().unwrap_or(""),
            minted_by.map_or("", |m| &m.user_id),
            minted_by.map_or("", |m| &m.project_id),
        ];
        let mut text = String::with_capacity(fields.iter().map(|f| f.len()).sum());
        let mut ends = [0u32; FIELDS];
        for (end, field) in ends.iter_mut().zip(fields) {
            text.push_str(field);
            *end = u32::try_from(text.len())
                .map_err(|_| StoreError::Unavailable("token record too large".into()))?;
        }
        let mut present = 0;
        if connect.internal_access_path.is_some() {
            present |= HAS_INTERNAL_ACCESS_PATH;
        }
        if connect.unix_socket.is_some() {
            present |= HAS_UNIX_SOCKET;
        }
        if minted_by.is_some() {
            present |= HAS_MINTED_BY;
        }
        Ok(CompactRecord {
            text: text.into_boxed_str(),
            ends,
            expires_at: record.expires_at,
            port: connect.port,
            tls_port: connect.tls_port,
            present,
        })
    }

    /// The record again, under its `hash`.
    pub(super) fn unpack(&self, hash: TokenHash) -> TokenRecord {
        let owned = |field| self.get(field).to_owned();
        let optional = |flag, field| (self.present & flag != 0).then(|| owned(field));
        TokenRecord {
            token_hash: hash,
            protocol: owned(Field::Protocol),
            console_type: owned(Field::ConsoleType),
            instance_uuid: owned(Field::InstanceUuid),
            connect: ConnectInfo {
                host: owned(Field::Host),
                port: self.port,
                tls_port: self.tls_port,
                internal_access_path: optional(HAS_INTERNAL_ACCESS_PATH, Field::InternalAccessPath),
                unix_socket: optional(HAS_UNIX_SOCKET, Field::UnixSocket),
            },
            access_url_base: owned(Field::AccessUrlBase),
            expires_at: self.expires_at,
            minted_by: (self.present & HAS_MINTED_BY != 0).then(|| MintedBy {
                user_id: owned(Field::UserId),
                project_id: owned(Field::ProjectId),
            }),
        }
    }

    /// Seconds since the Unix epoch after which the token is void.
    pub(super) fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// The server the console belongs to.
    pub(super) fn instance_uuid(&self) -> &str {
        self.get(Field::InstanceUuid)
    }

    /// [`TokenRecord::quota_project`].
    pub(super) fn quota_project(&self) -> Option<&str> {
        (self.present & HAS_MINTED_BY != 0).then(|| self.get(Field::ProjectId))
    }

    fn get(&self, field: Field) -> &str {
        let at = field as usize;
        let start = if at == 0 { 0 } else { self.ends[at - 1] };
        // In bounds and on character boundaries: `pack` wrote each end
        // after a whole string.
        self.text
            .get(start as usize..self.ends[at] as usize)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(optional: bool) -> TokenRecord {
        TokenRecord {
            token_hash: TokenHash::from_bytes([7; 32]),
            protocol: "mks".into(),
            console_type: "webmks".into(),
            instance_uuid: "3f1c-é".into(),
            connect: ConnectInfo {
                host: "esx-1".into(),
                port: 902,
                tls_port: optional.then_some(443),
                internal_access_path: optional.then(|| r#"{"ticket": "t"}"#.into()),
                // An empty string that is present is not an absent one.
                unix_socket: optional.then(String::new),
            },
            access_url_base: "https://h/".into(),
            expires_at: 1_800_000_000,
            minted_by: optional.then(|| MintedBy {
                user_id: "alice".into(),
                project_id: "demo".into(),
            }),
        }
    }

    #[test]
    fn a_record_comes_back_as_it_went_in() {
        for optional in [true, false] {
            let r = record(optional);
            let packed = CompactRecord::pack(&r).unwrap();
            assert_eq!(packed.unpack(r.token_hash), r);
            assert_eq!(packed.instance_uuid(), "3f1c-é");
            assert_eq!(packed.quota_project(), r.quota_project());
            assert_eq!(packed.expires_at(), 1_800_000_000);
        }
    }
}
