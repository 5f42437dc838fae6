//! Member status and the instances clients are given.

use std::time::{Duration, Instant};

use super::*;

fn member(name: &str) -> Member {
    member_leaving(name, false)
}

fn member_leaving(name: &str, leaving: bool) -> Member {
    let meta = Meta {
        service: "hello".to_owned(),
        port: 6060,
        root: String::new(),
        weight: 1,
        version: String::new(),
        commit: String::new(),
        built: String::new(),
        started: 0,
        leaving,
    };
    Member::from_meta(name.to_owned(), SocketAddr::from(([127, 0, 0, 1], 7946)), &meta)
}

fn last_heard(members: &Members, name: &str, ago: Duration) {
    let at = Instant::now().checked_sub(ago).expect("the test's clock goes back that far");
    members.heard.lock().expect("not poisoned").insert(name.to_owned(), at);
}

fn departed_status(members: &Members, name: &str) -> MemberStatus {
    let departed = members.departed(Duration::from_secs(60));
    departed.iter().find(|m| m.name == name).map(|m| m.status).expect("listed as departed")
}

#[test]
fn a_member_heard_within_the_minimum_suspicion_timeout_left_and_a_silent_one_died() {
    // 200 ms probes, suspicion multiplier 20: memberlist declares no one dead before 4 s
    // of silence, however slow this machine's probe rounds run.
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 20);
    for name in ["slow-prober", "gone", "frozen"] {
        members.upsert(member(name));
    }
    last_heard(&members, "slow-prober", Duration::from_millis(2500));
    last_heard(&members, "frozen", Duration::from_millis(4500));
    members.remove("slow-prober");
    members.remove("gone");
    members.remove("frozen");
    assert_eq!(departed_status(&members, "slow-prober"), MemberStatus::Left);
    assert_eq!(departed_status(&members, "gone"), MemberStatus::Left);
    assert_eq!(departed_status(&members, "frozen"), MemberStatus::Dead);
    assert!(members.all().is_empty());
}

#[test]
fn a_member_that_announces_its_leave_is_left_at_once_and_given_to_no_client() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 20);
    members.upsert(member("staying"));
    members.upsert(member("going"));
    assert_eq!(members.of_service("hello").len(), 2);
    members.upsert(member_leaving("going", true));
    assert_eq!(departed_status(&members, "going"), MemberStatus::Left);
    let names: Vec<_> = members.of_service("hello").iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, ["staying"]);
    // The leave message comes after a long silence (a loaded prober): still `left`.
    members.remove("going");
    assert_eq!(departed_status(&members, "going"), MemberStatus::Left);
    assert_eq!(members.departed(Duration::from_secs(60)).len(), 1);
}

#[test]
fn clients_are_not_given_suspect_members_unless_all_are() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 4);
    for name in ["a", "b", "c"] {
        members.upsert(member(name));
    }
    let names = |m: Arc<Vec<Member>>| m.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(members.answering("hello")), ["a", "b", "c"]);
    // Four intervals of 200 ms (two others, confirmed within one) and a probe timeout: 0.9 s.
    last_heard(&members, "b", Duration::from_secs(2));
    assert_eq!(names(members.answering("hello")), ["a", "c"]);
    last_heard(&members, "a", Duration::from_secs(2));
    last_heard(&members, "c", Duration::from_secs(2));
    assert_eq!(
        names(members.answering("hello")),
        ["a", "b", "c"],
        "all suspect: this node is the one cut off"
    );
}

#[test]
fn a_gossiped_weight_is_clamped_to_the_documented_range() {
    let mut meta = Meta::of(&crate::config::Config::defaults(), 6060, crate::vocab::BuildInfo::default());
    for (claimed, taken) in [(u32::MAX, 100), (101, 100), (0, 1), (7, 7)] {
        meta.weight = claimed;
        let member = Member::from_meta("greedy".to_owned(), SocketAddr::from(([127, 0, 0, 1], 7946)), &meta);
        assert_eq!(member.weight, taken, "claimed {claimed}");
    }
}

#[test]
fn this_node_is_never_suspect_of_itself() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 4);
    members.upsert(member("this-node"));
    members.upsert(member("other"));
    last_heard(&members, "this-node", Duration::from_secs(60));
    last_heard(&members, "other", Duration::from_secs(60));
    let status: Vec<_> = members.all().iter().map(|m| (m.name.clone(), m.status)).collect();
    assert_eq!(
        status,
        [("other".to_owned(), MemberStatus::Suspect), ("this-node".to_owned(), MemberStatus::Alive)]
    );
    assert_eq!(members.overdue(), ["other"], "this node is not pinged");
    let mine = Members::new("hello-1", Duration::from_millis(200), Duration::from_millis(100), 4);
    for name in ["hello-1", "hello-2"] {
        mine.upsert(member(name));
        last_heard(&mine, name, Duration::from_secs(60));
    }
    mine.upsert(member("hello-3"));
    let answering: Vec<String> = mine.answering("hello").iter().map(|m| m.name.clone()).collect();
    assert_eq!(answering, ["hello-1", "hello-3"], "its clients call this node's own instance");
}

#[test]
fn an_acknowledgement_after_a_member_left_leaves_nothing_behind() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 4);
    members.upsert(member("going"));
    members.upsert(member_leaving("going", true));
    members.heard_from("going"); // a probe acknowledged just before its leave arrived
    members.remove("going");
    members.heard_from("going");
    assert!(members.overdue().is_empty(), "no stale entry takes a ping's place");
}

#[test]
fn an_unwell_node_waits_longer_before_suspecting_others() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 4);
    for name in ["a", "b"] {
        members.upsert(member(name));
    }
    last_heard(&members, "b", Duration::from_secs(2));
    assert_eq!(members.answering("hello").len(), 1, "0.9 s of silence is suspect");
    // memberlist stretches this node's probe rounds by its health score (it failed probes of
    // a partitioned member): the silence of healthy members stretches alike.
    members.health.store(3, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(members.answering("hello").len(), 2, "3.3 s is the limit now");
}

#[test]
fn the_most_overdue_members_are_confirmed_first_a_few_at_a_time() {
    let members = Members::new("this-node", Duration::from_millis(200), Duration::from_millis(100), 4);
    for (i, name) in ["m0", "m1", "m2", "m3", "m4", "m5", "fresh"].iter().enumerate() {
        members.upsert(member(name));
        if *name != "fresh" {
            last_heard(&members, name, Duration::from_millis(500 + 100 * i as u64));
        }
    }
    assert_eq!(members.overdue(), ["m5", "m4", "m3", "m2"]);
}
