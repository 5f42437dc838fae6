//! Prometheus service discovery: the cluster's live members as Prometheus target groups, for
//! `file_sd_configs` (written by the prometheus-sd example, [`FileSd`]) and `http_sd_configs`
//! (served by every node at `/go-doudou/sd`).
//!
//! One group per node: the target is its HTTP `host:port`; labels are `service_id` (the service
//! name), `hostname` (the node name), `base_url`, `status` (`alive` or `suspect`, see
//! [`Member::status`]) and the build info, plus every metadata entry
//! as a `__meta_doudou_*` label for relabeling.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sd::Member;

/// One Prometheus target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TargetGroup {
    /// `host:port` of the HTTP server.
    pub targets: Vec<String>,
    /// The group's labels.
    pub labels: BTreeMap<String, String>,
}

/// A service method can answer target groups, as the prometheus-sd example does.
impl crate::validate::Model for TargetGroup {}

/// Keeps `[a-zA-Z0-9_]`, replacing anything else with `_`, as Prometheus label names require.
pub fn sanitize(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The target groups of `members`, sorted by service and node name so equal clusters give
/// equal output.
pub fn target_groups(members: &[Member]) -> Vec<TargetGroup> {
    let mut members: Vec<&Member> = members.iter().filter(|m| m.serves()).collect();
    members.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    members
        .into_iter()
        .map(|m| {
            let mut labels = BTreeMap::new();
            labels.insert("service_id".to_owned(), m.service.clone());
            labels.insert("hostname".to_owned(), m.name.clone());
            labels.insert("base_url".to_owned(), m.base_url.clone());
            labels.insert("version".to_owned(), m.version.clone());
            labels.insert("git_commit".to_owned(), m.git_commit.clone());
            labels.insert("build_time".to_owned(), m.build_time.clone());
            labels.insert("status".to_owned(), m.status.as_str().to_owned());
            let meta = [
                ("service", m.service.clone()),
                ("node", m.name.clone()),
                ("weight", m.weight.to_string()),
                ("gossip_address", m.gossip_address.clone()),
                ("start_time", m.start_time.to_string()),
            ];
            for (key, value) in meta {
                labels.insert(format!("__meta_doudou_{}", sanitize(key)), value);
            }
            labels.retain(|_, v| !v.is_empty());
            TargetGroup { targets: vec![m.address.clone()], labels }
        })
        .collect()
}

/// Why the file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path} (PROM_SD_OUT): {source}")]
pub struct WriteError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes `go-doudou.json` into a directory atomically, and only when its content changes.
#[derive(Debug)]
pub struct FileSd {
    path: PathBuf,
    last: Option<Vec<u8>>,
}

impl FileSd {
    /// The file `dir/go-doudou.json`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        Self { path: dir.as_ref().join("go-doudou.json"), last: None }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `groups` unless the file already holds exactly them; returns whether it wrote.
    /// The new content goes to a temporary file in the same directory, is synced, then renamed
    /// over the old one, so readers see the old file or the new one, never a part.
    pub fn write(&mut self, groups: &[TargetGroup]) -> Result<bool, WriteError> {
        let mut bytes = serde_json::to_vec_pretty(groups).unwrap_or_default();
        bytes.push(b'\n');
        if self.last.is_none() {
            self.last = std::fs::read(&self.path).ok();
        }
        if self.last.as_deref() == Some(bytes.as_slice()) {
            return Ok(false);
        }
        let err = |source| WriteError { path: self.path.clone(), source };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".go-doudou.json.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(e));
        }
        self.last = Some(bytes);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, service: &str) -> Member {
        Member {
            name: name.into(),
            service: service.into(),
            gossip_address: "10.0.0.1:7946".into(),
            address: format!("10.0.0.1:{}", 6000 + name.len()),
            base_url: format!("http://10.0.0.1:{}", 6000 + name.len()),
            weight: 2,
            version: "1.0.0".into(),
            git_commit: String::new(),
            build_time: String::new(),
            start_time: 7,
            status: crate::sd::MemberStatus::Alive,
        }
    }

    #[test]
    fn groups_are_sorted_and_labelled() {
        let groups = target_groups(&[member("b", "zeta"), member("aa", "alpha")]);
        assert_eq!(groups[0].labels["service_id"], "alpha");
        assert_eq!(groups[0].targets, vec!["10.0.0.1:6002"]);
        assert_eq!(groups[0].labels["__meta_doudou_weight"], "2");
        assert!(!groups[0].labels.contains_key("git_commit"), "empty labels are left out");
        assert_eq!(sanitize("gossip-address.v2"), "gossip_address_v2");
        assert_eq!(sanitize("9lives"), "_9lives");
    }

    #[test]
    fn nodes_that_serve_nothing_are_no_targets() {
        let client = Member { address: String::new(), base_url: String::new(), ..member("cli", "zeta") };
        let groups = target_groups(&[member("b", "zeta"), client]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].labels["hostname"], "b");
    }

    #[test]
    fn the_file_is_replaced_only_when_it_changes() {
        let dir = std::env::temp_dir().join(format!("doudou-filesd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut sd = FileSd::new(&dir);
        let groups = target_groups(&[member("a", "s")]);
        assert!(sd.write(&groups).expect("writes"));
        assert!(!sd.write(&groups).expect("no change"));
        let mut again = FileSd::new(&dir);
        assert!(!again.write(&groups).expect("no change"), "an identical file on disk is kept");
        assert!(sd.write(&target_groups(&[])).expect("writes"));
        assert_eq!(std::fs::read_to_string(sd.path()).expect("read"), "[]\n");
        let bad = FileSd::new("/proc/doudou-cannot-write-here").write(&groups).expect_err("unwritable");
        assert!(
            bad.to_string().contains("PROM_SD_OUT")
                && bad.to_string().contains("/proc/doudou-cannot-write-here")
        );
    }
}
