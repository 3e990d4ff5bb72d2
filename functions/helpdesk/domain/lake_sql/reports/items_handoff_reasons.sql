-- The conversations behind one hand-off reason (:segment; '' for all).
SELECT conversation_id, path_id, step_id, handoff_reason, ended_at
FROM bot_outcomes
WHERE outcome = 'handed_off' AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel) AND (:segment = '' OR handoff_reason = :segment)
ORDER BY ended_at, conversation_id
