//! Walk, open, read, write, create, readdir and getattr through a session.

mod common;

use common::{Harness, GOOD_TICKET};
use secure9p::codec::{Limits, DT_DIR, DT_REG};
use secure9p::{ClientError, Error, QT_DIR};

fn attached() -> (Harness, u32) {
    let mut h = Harness::new();
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    (h, root)
}

#[test]
fn walk_returns_one_qid_per_element() {
    let (mut h, root) = attached();
    let r = h.call(|c, out| c.walk_path(root, "proc/boot", out).map(|x| x.0));
    let qids = r.unwrap().into_qids().unwrap();
    assert_eq!(qids.iter().map(|q| q.path).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(qids[0].ty, QT_DIR);
}

#[test]
fn partial_walk_answers_the_prefix_and_creates_no_fid() {
    let (mut h, root) = attached();
    let before = h.session.fid_count();
    let (newfid, r) = h.call_fid(|c, out| c.walk_path(root, "proc/nope/deeper", out));
    assert_eq!(r.unwrap().into_qids().unwrap().len(), 1);
    assert_eq!(h.session.fid_count(), before);
    let err = h.call(|c, out| c.getattr(newfid, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Closed));
}

#[test]
fn walk_failing_on_the_first_element_is_the_error() {
    let (mut h, root) = attached();
    let (_, r) = h.call_fid(|c, out| c.walk_path(root, "nope/boot", out));
    assert_eq!(r.unwrap_err(), ClientError::Remote(Error::NotFound));
}

#[test]
fn walk_with_no_names_clones_and_newfid_equal_to_fid_moves() {
    let (mut h, root) = attached();
    let clone = h.walk(root, "").unwrap();
    let qids = h
        .call(|c, out| {
            let mut req = Vec::new();
            let tag = c.walk(clone, &["proc"], &mut req)?.0;
            // Rewrite newfid to equal fid: the fid itself moves.
            req[11..15].copy_from_slice(&clone.to_le_bytes());
            out.extend_from_slice(&req);
            Ok(tag)
        })
        .unwrap()
        .into_qids()
        .unwrap();
    assert_eq!(qids.len(), 1);
    let attr = h.call(|c, out| c.getattr(clone, out)).unwrap();
    assert_eq!(attr.into_getattr().unwrap().qid.path, 1);
    assert_eq!(
        h.tree.clunked,
        vec![0],
        "the replaced root node was released"
    );
}

#[test]
fn walk_to_a_fid_in_use_is_invalid() {
    let (mut h, root) = attached();
    let other = h.walk(root, "tmp").unwrap();
    let err = h
        .call(|c, out| {
            let mut req = Vec::new();
            let tag = c.walk(root, &["proc"], &mut req)?.0;
            req[11..15].copy_from_slice(&other.to_le_bytes());
            out.extend_from_slice(&req);
            Ok(tag)
        })
        .unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Invalid));
}

#[test]
fn reads_need_an_open_fid_and_opening_twice_is_invalid() {
    let (mut h, root) = attached();
    let boot = h.walk(root, "proc/boot").unwrap();
    let err = h.call(|c, out| c.read(boot, 0, 100, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Invalid));
    let err = h.call(|c, out| c.write(boot, 0, b"x", out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Invalid));
    h.open(boot, 0).unwrap();
    assert_eq!(h.open(boot, 0), Err(ClientError::Remote(Error::Invalid)));
    // An open fid cannot be walked from.
    assert_eq!(h.walk(boot, ""), Err(ClientError::Remote(Error::Invalid)));
    let data = h.call(|c, out| c.read(boot, 9, 3, out)).unwrap();
    assert_eq!(data.into_data().unwrap(), b"sim");
}

#[test]
fn reads_are_clamped_to_the_negotiated_msize() {
    let limits = Limits {
        msize: 300,
        ..Limits::default()
    };
    let mut h = Harness::with_limits(limits);
    let root = h.attach_with_ticket(GOOD_TICKET).unwrap();
    let log = h.walk(root, "log/queen.log").unwrap();
    h.open(log, 1).unwrap();
    let line = vec![b'z'; 250];
    h.call(|c, out| c.write(log, 0, &line, out)).unwrap();
    h.call(|c, out| c.write(log, 0, &line, out)).unwrap();
    let again = h.walk(root, "log/queen.log").unwrap();
    h.open(again, 0).unwrap();
    // Ask the session directly for more than fits: the reply still fits msize.
    let mut frame = Vec::new();
    let req = secure9p::codec::Request::Read {
        fid: again,
        offset: 0,
        count: 5000,
    };
    secure9p::encode_request(1, &req, &mut frame).unwrap();
    let reply = h.exchange(&frame);
    assert_eq!(reply.len(), 300);
}

#[test]
fn writes_respect_the_open_mode_and_the_node() {
    let (mut h, root) = attached();
    let log = h.walk(root, "log/queen.log").unwrap();
    h.open(log, 0).unwrap();
    let err = h.call(|c, out| c.write(log, 0, b"x", out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Perm));
    let w = h.walk(root, "log/queen.log").unwrap();
    h.open(w, 1).unwrap();
    let err = h.call(|c, out| c.read(w, 0, 10, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Perm));
    for line in [&b"one\n"[..], b"two\n"] {
        let n = h.call(|c, out| c.write(w, 0, line, out)).unwrap();
        assert_eq!(n.into_count().unwrap(), 4);
    }
    assert_eq!(h.tree.content(&["log", "queen.log"]), b"one\ntwo\n");
    let boot = h.walk(root, "proc/boot").unwrap();
    assert_eq!(h.open(boot, 2), Err(ClientError::Remote(Error::Perm)));
}

#[test]
fn lcreate_moves_the_fid_to_the_new_open_file() {
    let (mut h, root) = attached();
    let tmp = h.walk(root, "tmp").unwrap();
    let qid = h
        .call(|c, out| c.lcreate(tmp, "scratch", 2, 0o644, out))
        .unwrap()
        .into_qid()
        .unwrap();
    h.call(|c, out| c.write(tmp, 0, b"hello", out)).unwrap();
    let data = h.call(|c, out| c.read(tmp, 0, 64, out)).unwrap();
    assert_eq!(data.into_data().unwrap(), b"hello");
    let attr = h.call(|c, out| c.getattr(tmp, out)).unwrap();
    assert_eq!(attr.into_getattr().unwrap().qid, qid);
    let proc_ = h.walk(root, "proc").unwrap();
    let err = h
        .call(|c, out| c.lcreate(proc_, "x", 2, 0, out))
        .unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Perm));
}

#[test]
fn readdir_lists_entries_with_resumable_offsets() {
    let (mut h, root) = attached();
    let dir = h.walk(root, "").unwrap();
    let err = h.call(|c, out| c.readdir(dir, 0, 4096, out)).unwrap_err();
    assert_eq!(
        err,
        ClientError::Remote(Error::Invalid),
        "readdir needs an open fid"
    );
    h.open(dir, 0).unwrap();
    let limits = *h.client.limits();
    let all = h.call(|c, out| c.readdir(dir, 0, 4096, out)).unwrap();
    let all = all.into_dirents(&limits).unwrap();
    let names: Vec<_> = all.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["proc", "log", "tmp"]);
    assert_eq!(all.iter().map(|d| d.offset).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(all.iter().all(|d| d.ty == DT_DIR));
    // A count that fits one entry (24 fixed bytes + name) returns one at a time.
    let mut offset = 0;
    let mut seen = Vec::new();
    loop {
        let page = h.call(|c, out| c.readdir(dir, offset, 30, out)).unwrap();
        let page = page.into_dirents(&limits).unwrap();
        let Some(last) = page.last() else { break };
        assert_eq!(page.len(), 1);
        offset = last.offset;
        seen.push(last.name.clone());
    }
    assert_eq!(seen, ["proc", "log", "tmp"]);
    let err = h.call(|c, out| c.readdir(dir, 0, 10, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Invalid), "no entry fits");
    let boot_dir = h.walk(root, "proc").unwrap();
    h.open(boot_dir, 0).unwrap();
    let page = h.call(|c, out| c.readdir(boot_dir, 0, 4096, out)).unwrap();
    assert_eq!(page.into_dirents(&limits).unwrap()[0].ty, DT_REG);
}

#[test]
fn getattr_fills_every_field() {
    let (mut h, root) = attached();
    let boot = h.walk(root, "proc/boot").unwrap();
    let a = h
        .call(|c, out| c.getattr(boot, out))
        .unwrap()
        .into_getattr()
        .unwrap();
    assert_eq!(a.valid, secure9p::Getattr::VALID_BASIC);
    assert_eq!(a.qid.path, 2);
    assert_eq!(a.mode, 0o100644);
    assert_eq!((a.uid, a.gid, a.nlink, a.rdev), (0, 0, 1, 0));
    assert_eq!(a.size, 24);
    assert_eq!((a.blksize, a.blocks), (4096, 1));
    assert_eq!((a.mtime_sec, a.mtime_nsec), (12, 345_000_000));
    assert_eq!((a.atime_sec, a.ctime_sec), (12, 12));
}

#[test]
fn clunk_once() {
    let (mut h, root) = attached();
    let boot = h.walk(root, "proc/boot").unwrap();
    h.call(|c, out| c.clunk(boot, out)).unwrap();
    assert_eq!(h.tree.clunked, vec![2]);
    let err = h.call(|c, out| c.clunk(boot, out)).unwrap_err();
    assert_eq!(err, ClientError::Remote(Error::Closed));
    assert_eq!(h.tree.clunked, vec![2]);
}

#[test]
fn unknown_fids_are_closed() {
    let (mut h, _) = attached();
    for result in [
        h.call(|c, out| c.getattr(999, out)),
        h.call(|c, out| c.read(999, 0, 1, out)),
        h.call(|c, out| c.write(999, 0, b"x", out)),
        h.call(|c, out| c.lopen(999, 0, out)),
        h.call(|c, out| c.readdir(999, 0, 100, out)),
    ] {
        assert_eq!(result.unwrap_err(), ClientError::Remote(Error::Closed));
    }
    assert_eq!(h.walk(999, "proc"), Err(ClientError::Remote(Error::Closed)));
}

#[test]
fn flush_is_answered_at_once() {
    let (mut h, _) = attached();
    let r = h.call(|c, out| c.flush(7, out)).unwrap();
    assert_eq!(r, secure9p::Response::Flush);
}
