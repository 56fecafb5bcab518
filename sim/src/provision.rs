//! Ticket hand-off from the Queen to the sites. After a spawn is acknowledged the operator
//! host reads `/queen/ctl` for the new ids, reads each worker's ticket over its queen
//! session, and delivers `PROVISION <id> <ticket>` lines to the worker's site over a
//! simulated TCP connection. Workers spawned without a site go to the least-loaded site of
//! the hive (ties to the lowest number), so placement depends only on the script.

use crate::operator::Session;
use crate::scenario::PROVISION_PORT;
use crate::world::World;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use turmoil::net::TcpStream;

/// Ticket reads pipelined on the console at once.
const BATCH: usize = 32;
/// Longest a site delivery may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Workers provisioned per site (by index into `World::sites`).
#[derive(Debug, Default)]
pub struct SiteLoad {
    placed: BTreeMap<usize, u64>,
}

impl SiteLoad {
    fn pick(&mut self, world: &World, hive: usize, label: Option<&str>) -> Option<usize> {
        let site = match label {
            Some(label) => world
                .sites_of(hive)
                .find(|&i| world.sites[i].label == label)?,
            None => world
                .sites_of(hive)
                .min_by_key(|i| (self.placed.get(i).copied().unwrap_or(0), *i))?,
        };
        *self.placed.entry(site).or_insert(0) += 1;
        Some(site)
    }
}

/// `spawn kind=heartbeat count=3 ids=w0001..w0003` → the ids.
pub fn ids_of(ack: &str) -> Vec<String> {
    let Some(span) = ack
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("ids="))
    else {
        return Vec::new();
    };
    let number = |id: &str| id.trim_start_matches('w').parse::<u64>().ok();
    match span.split_once("..") {
        Some((first, last)) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b && b - a < 65_536 => {
                (a..=b).map(|n| format!("w{n:04}")).collect()
            }
            _ => Vec::new(),
        },
        None => vec![span.to_string()],
    }
}

/// The `site` named in a spawn's JSON, if any.
pub fn site_of(json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    value.get("site")?.as_str().map(str::to_string)
}

/// Reads the new workers' tickets and delivers them to their sites.
pub async fn provision(
    world: &Rc<World>,
    hive: usize,
    session: &mut Session,
    spawn_json: &str,
    load: &Rc<RefCell<SiteLoad>>,
) {
    let name = world.hives[hive].name.clone();
    let Some(reply) = session.call("CAT /queen/ctl", "CAT").await else {
        world.record(
            &name,
            "op",
            "provision.failed",
            None,
            vec![("why", "ctl-unread".into())],
        );
        return;
    };
    let ids = reply
        .iter()
        .find(|l| l.starts_with("spawn "))
        .map(|l| ids_of(l))
        .unwrap_or_default();
    let label = site_of(spawn_json);
    let mut by_site: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    for chunk in ids.chunks(BATCH) {
        let lines: Vec<String> = chunk
            .iter()
            .map(|id| {
                format!(
                    "CAT /shard/{}/worker/{id}/ticket",
                    hive::ShardLabel::of(id).as_str()
                )
            })
            .collect();
        let replies = session.call_many(&lines, "CAT").await.unwrap_or_default();
        for (i, id) in chunk.iter().enumerate() {
            let ticket = replies
                .get(i)
                .and_then(|r| r.iter().find(|l| l.starts_with("cohesix-ticket-")).cloned());
            let site = load.borrow_mut().pick(world, hive, label.as_deref());
            match (ticket, site) {
                (Some(ticket), Some(site)) => {
                    by_site.entry(site).or_default().push((id.clone(), ticket))
                }
                _ => failed(world, &name, id, "ticket-unread"),
            }
        }
    }
    for (site, batch) in by_site {
        deliver(world, site, batch).await;
    }
}

fn failed(world: &World, hive: &str, id: &str, why: &str) {
    world.tally.borrow_mut().provision_failed += 1;
    world.record(
        hive,
        "op",
        "provision.failed",
        Some(id),
        vec![("why", why.to_string())],
    );
}

async fn deliver(world: &Rc<World>, site: usize, batch: Vec<(String, String)>) {
    let cell = &world.sites[site];
    let hive = world.hives[cell.hive].name.clone();
    let work = async {
        let stream = TcpStream::connect((cell.host.as_str(), PROVISION_PORT)).await?;
        let (read, mut write) = stream.into_split();
        let mut text = String::new();
        for (id, ticket) in &batch {
            text.push_str(&format!("PROVISION {id} {ticket}\n"));
        }
        write.write_all(text.as_bytes()).await?;
        let mut lines = BufReader::new(read).lines();
        let mut acks = Vec::with_capacity(batch.len());
        for _ in &batch {
            acks.push(lines.next_line().await?.unwrap_or_default());
        }
        Ok::<_, std::io::Error>(acks)
    };
    let acks = tokio::time::timeout(DELIVERY_TIMEOUT, work)
        .await
        .ok()
        .and_then(Result::ok);
    for (i, (id, _)) in batch.iter().enumerate() {
        match acks.as_ref().and_then(|a| a.get(i)) {
            Some(ack) if ack.starts_with("OK ") => {
                world.tally.borrow_mut().provisioned += 1;
                world.record(
                    &hive,
                    "op",
                    "provision.delivered",
                    Some(id),
                    vec![("site", cell.label.clone())],
                );
            }
            Some(ack) => {
                let why = ack
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("refused")
                    .to_string();
                failed(world, &hive, id, &why);
            }
            None => failed(world, &hive, id, "site-unreachable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_acks_and_json_are_read() {
        assert_eq!(
            ids_of("spawn kind=heartbeat count=3 ids=w0008..w0010"),
            ["w0008", "w0009", "w0010"]
        );
        assert_eq!(ids_of("spawn kind=heartbeat count=1 ids=w0042"), ["w0042"]);
        assert!(ids_of("kill id=w1").is_empty());
        assert_eq!(
            site_of(r#"{"spawn":"heartbeat","site":"s03"}"#).as_deref(),
            Some("s03")
        );
        assert_eq!(site_of(r#"{"spawn":"heartbeat"}"#), None);
    }
}
