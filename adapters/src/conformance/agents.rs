//! The agent-store cases.

use super::*;

async fn must_put(store: &dyn AgentStore, agent: &Agent) {
    store
        .put(agent)
        .await
        .unwrap_or_else(|e| panic!("put of agent {}: {e}", agent.id));
}

suite! {
    $
    /// Runs the agent-store conformance suite; see the [module docs](crate::conformance) for the
    /// `$make` convention.
    macro agent_store_conformance for agents;

    pub async fn put_then_get_round_trips(store: &dyn AgentStore) {
        let agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        let got = store.get(&agent.id).await.expect("get");
        let stored = Agent {
            revision: 1,
            ..agent
        };
        assert_eq!(
            got,
            Some(stored),
            "get returns the agent as put, at the next revision"
        );
    }

    pub async fn a_put_from_a_stale_read_is_a_conflict(store: &dyn AgentStore) {
        let agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        // A second writer that read nothing (revision 0) lost the race.
        let err = store.put(&agent).await.expect_err("a stale put must fail");
        assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
        let fresh = store.get(&agent.id).await.expect("get").expect("stored");
        let mut renamed = fresh.clone();
        renamed.name = "first".into();
        must_put(store, &renamed).await;
        let mut late = fresh;
        late.name = "second".into();
        let err = store
            .put(&late)
            .await
            .expect_err("a put at an old revision must fail");
        assert!(matches!(err, PortError::Conflict(_)), "{err:?}");
        let now = store.get(&agent.id).await.expect("get").expect("stored");
        assert_eq!(
            (now.name.as_str(), now.revision),
            ("first", 2),
            "the first writer's change stands"
        );
    }

    pub async fn get_of_unknown_agent_is_none(store: &dyn AgentStore) {
        let id: AgentId = "999999999999-us-east-1".parse().unwrap();
        assert_eq!(store.get(&id).await.expect("get"), None);
    }

    pub async fn put_replaces_the_agent(store: &dyn AgentStore) {
        let mut agent = agent("111122223333", "eu-west-1");
        must_put(store, &agent).await;
        agent.revision = 1;
        agent.name = "renamed".into();
        agent.config.schedule_minutes = 15;
        agent.config_version += 1;
        agent.last_run = None;
        must_put(store, &agent).await;
        agent.revision = 2;
        assert_eq!(
            store.get(&agent.id).await.expect("get"),
            Some(agent.clone())
        );
        let page = store.list(None, 10).await.expect("list");
        assert_eq!(page.items, vec![agent], "a replaced agent is listed once");
        assert_eq!(page.next, None);
    }

    pub async fn list_is_ordered_by_id_and_pages_exactly_once(store: &dyn AgentStore) {
        let accounts = ["999988887777", "000011112222", "555566667777"];
        let regions = ["us-east-1", "ap-south-1", "local", "eu-west-1"];
        let mut all = Vec::new();
        for account in accounts {
            for region in regions {
                let a = agent(account, region);
                must_put(store, &a).await;
                all.push(a);
            }
        }
        all.sort_by_key(|a| a.id.to_string());
        let want: Vec<String> = all.iter().map(|a| a.id.to_string()).collect();

        // 1, 3, 4 and 12 divide the 12 agents: the last page is full and has no next key.
        for limit in [1, 2, 3, 4, 5, 7, 12, 13, 200] {
            let mut got = Vec::new();
            let mut after: Option<AgentId> = None;
            for page_number in 0.. {
                assert!(page_number <= 100, "listing agents by {limit} does not end");
                let page = store
                    .list(after.clone(), limit)
                    .await
                    .unwrap_or_else(|e| panic!("list of agents after {after:?}: {e}"));
                assert!(page.items.len() <= limit);
                if let Some(next) = &page.next {
                    assert_eq!(page.items.len(), limit, "a page with a next key is full");
                    assert_eq!(
                        Some(next),
                        page.items.last().map(|a| &a.id),
                        "the next key is the last agent's id"
                    );
                }
                got.extend(page.items.iter().map(|a| a.id.to_string()));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(
                got, want,
                "pages of {limit} do not return every agent exactly once, ordered by id"
            );
        }

        let after_last: AgentId = want.last().unwrap().parse().unwrap();
        let page = store.list(Some(after_last), 5).await.expect("list");
        assert!(
            page.items.is_empty() && page.next.is_none(),
            "nothing after the last id"
        );
        // `after` need not be a stored id.
        let between: AgentId = "000011112222-zz".parse().unwrap();
        let page = store.list(Some(between), 2).await.expect("list");
        assert_eq!(
            page.items
                .iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>(),
            want[4..6].to_vec(),
            "listing after an id that is not stored"
        );
    }

    pub async fn list_of_empty_store_is_empty(store: &dyn AgentStore) {
        let page = store.list(None, 10).await.expect("list");
        assert!(page.items.is_empty() && page.next.is_none(), "{page:?}");
    }
}
