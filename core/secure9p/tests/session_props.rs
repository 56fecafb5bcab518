//! Property tests over whole sessions: whatever arrives, every request gets exactly one
//! well-formed answer on its own tag, and the session's bounds hold.

mod common;

use common::{Harness, GOOD_TICKET};
use proptest::prelude::*;
use secure9p::codec::{msg, Limits, Request, Response};
use secure9p::{decode_request, decode_response, encode_request};
use std::collections::BTreeMap;

/// Requests aimed at the tiny tree: small fids, real and bogus names.
fn request() -> impl Strategy<Value = Request> {
    let fid = 0u32..6;
    let name = prop::sample::select(vec!["proc", "boot", "log", "queen.log", "tmp", "nope"]);
    prop_oneof![
        (fid.clone(), 0u32..8, prop::collection::vec(name, 0..4)).prop_map(|(fid, newfid, n)| {
            Request::Walk {
                fid,
                newfid,
                names: n.into_iter().map(String::from).collect(),
            }
        }),
        (fid.clone(), 0u32..3).prop_map(|(fid, flags)| Request::Lopen { fid, flags }),
        (fid.clone(), 0u64..40, 0u32..100).prop_map(|(fid, offset, count)| Request::Read {
            fid,
            offset,
            count
        }),
        (fid.clone(), prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(fid, data)| {
            Request::Write {
                fid,
                offset: 0,
                data,
            }
        }),
        fid.clone().prop_map(|fid| Request::Clunk { fid }),
        fid.clone()
            .prop_map(|fid| Request::Getattr { fid, mask: 0 }),
        (fid.clone(), 0u64..5, 0u32..200).prop_map(|(fid, offset, count)| Request::Readdir {
            fid,
            offset,
            count
        }),
        (fid, prop::sample::select(vec!["new", "..", "x"])).prop_map(|(fid, n)| Request::Lcreate {
            fid,
            name: n.into(),
            flags: 2,
            mode: 0,
            gid: 0
        }),
        any::<u16>().prop_map(|oldtag| Request::Flush { oldtag }),
        Just(Request::Version {
            msize: 4096,
            version: "9P2000.L".into()
        }),
    ]
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![
            msg::TWALK,
            msg::TREAD,
            msg::TWRITE,
            msg::TATTACH,
            8,
            122,
        ]),
        prop::collection::vec(any::<u8>(), 0..60),
    )
        .prop_map(|(ty, body)| {
            let mut frame = ((body.len() + 7) as u32).to_le_bytes().to_vec();
            frame.push(ty);
            frame.extend_from_slice(&[9, 0]);
            frame.extend_from_slice(&body);
            frame
        })
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => request().prop_map(|r| {
            let mut out = Vec::new();
            encode_request(9, &r, &mut out).unwrap();
            out
        }),
        1 => noise(),
    ]
}

/// What the wire says a session holds: the fids a correct 9P2000.L server has live after each
/// reply, and how many nodes it must have handed back to the backend. Derived from the
/// requests and their replies only, never from the session's internals.
#[derive(Default)]
struct FidModel {
    /// fid → true for an auth fid (which holds no backend node).
    live: BTreeMap<u32, bool>,
    /// Backend `clunk` calls the session owes so far.
    released: usize,
}

impl FidModel {
    fn nodes(&self) -> usize {
        self.live.values().filter(|auth| !**auth).count()
    }

    fn apply(&mut self, request: &Request, response: &Response) {
        match (request, response) {
            (Request::Version { .. }, Response::Version { .. }) => {
                self.released += self.nodes();
                self.live.clear();
            }
            (Request::Auth { afid, .. }, Response::Auth { .. }) => {
                self.live.insert(*afid, true);
            }
            (Request::Attach { fid, .. }, Response::Attach { .. }) => {
                self.live.insert(*fid, false);
            }
            // Only a walk of every name binds newfid; a clone or in-place walk replaces the
            // fid's node, and the old node goes back to the backend.
            (Request::Walk { fid, newfid, names }, Response::Walk { qids })
                if qids.len() == names.len() =>
            {
                if fid == newfid {
                    self.released += 1;
                } else {
                    self.live.insert(*newfid, false);
                }
            }
            (Request::Lcreate { .. }, Response::Lcreate { .. }) => self.released += 1,
            (Request::Clunk { fid }, Response::Clunk) if self.live.remove(fid) == Some(false) => {
                self.released += 1;
            }
            _ => {}
        }
    }
}

proptest! {
    #[test]
    fn every_frame_gets_one_answer_and_bounds_hold(frames in prop::collection::vec(input(), 1..40)) {
        let limits = Limits { fids: 6, ..Limits::default() };
        let mut h = Harness::with_limits(limits);
        let mut model = FidModel::default();
        h.call(|c, out| c.version(out)).unwrap();
        let (afid, r) = h.call_fid(|c, out| c.auth("w1", "worker-heartbeat", out));
        r.unwrap();
        h.call(|c, out| c.write(afid, 0, GOOD_TICKET, out)).unwrap();
        let (root, r) = h.call_fid(|c, out| c.attach(Some(afid), "w1", "worker-heartbeat", out));
        r.unwrap();
        model.live.extend([(afid, true), (root, false)]);
        for frame in &frames {
            let reply = h.exchange(frame);
            let (tag, response) = decode_response(&reply, &Limits::default()).unwrap();
            prop_assert_eq!(tag, 9);
            prop_assert!(reply.len() <= h.session.msize() as usize);
            prop_assert!(h.session.fid_count() <= 6);
            if let Ok((_, request)) = decode_request(frame, &Limits::default()) {
                model.apply(&request, &response);
            }
            prop_assert_eq!(h.session.fid_count(), model.live.len(), "after {:?}", response);
            prop_assert_eq!(h.tree.clunked.len(), model.released, "after {:?}", response);
        }
        // Every node still held is given back to the backend exactly once on close.
        h.session.close(&mut h.tree);
        prop_assert_eq!(h.session.fid_count(), 0);
        prop_assert_eq!(h.tree.clunked.len(), model.released + model.nodes());
    }

    #[test]
    fn batches_answer_every_frame_in_order(frames in prop::collection::vec(input(), 1..30)) {
        // A batch as wide as the input, so one call answers every frame (the tag window
        // still applies within it).
        let mut h = Harness::with_limits(Limits { batch: 32, ..Limits::default() });
        h.attach_with_ticket(GOOD_TICKET).unwrap();
        let mut input = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let mut f = f.clone();
            f[5..7].copy_from_slice(&(i as u16 % 20).to_le_bytes());
            input.extend(f);
        }
        let mut out = Vec::new();
        let used = h.session.handle_batch(&input, &mut h.tree, &mut out).unwrap();
        prop_assert_eq!(used, input.len());
        let mut rest = &out[..];
        let mut count = 0;
        while !rest.is_empty() {
            let len = secure9p::frame_len(rest, 8192).unwrap().unwrap();
            let (tag, _) = decode_response(&rest[..len], &Limits::default()).unwrap();
            prop_assert_eq!(tag, count as u16 % 20);
            rest = &rest[len..];
            count += 1;
        }
        prop_assert_eq!(count, frames.len());
    }
}
