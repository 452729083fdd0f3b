//! The agent-state cases.

use super::*;

suite! {
    $
    /// Runs the agent-state conformance suite; see the [module docs](crate::conformance) for the
    /// `$make` convention.
    macro agent_state_conformance for agent_state;

    pub async fn load_without_save_is_the_default(store: &dyn AgentStateStore) {
        let state = store.load().await.expect("load");
        assert_eq!(state, AgentState::default(), "the state before any save");
    }

    pub async fn save_then_load_round_trips(store: &dyn AgentStateStore) {
        let mut state = AgentState {
            checkpoint: Some(at("2026-03-01T10:00:00.123456789Z")),
            pending: Some(Window {
                start: at("2026-03-01T10:00:00Z"),
                end: at("2026-03-01T10:05:00Z"),
            }),
            config: Some(agent(ACCOUNT, REGION).config),
            config_version: 7,
            registered: true,
        };
        store.save(&state).await.expect("save");
        assert_eq!(store.load().await.expect("load"), state);

        state.pending = None;
        state.checkpoint = Some(at("2026-03-01T10:05:00Z"));
        store.save(&state).await.expect("second save");
        assert_eq!(
            store.load().await.expect("load"),
            state,
            "a save replaces the state"
        );
    }
}
