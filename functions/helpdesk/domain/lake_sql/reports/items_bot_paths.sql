-- The conversations behind one bot path (:segment; '' for all), with how each ended.
SELECT conversation_id, path_id, step_id, outcome, resolved_by, handoff_reason, ended_at
FROM bot_outcomes
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel) AND (:segment = '' OR COALESCE(path_id, '(no path)') = :segment)
ORDER BY ended_at, conversation_id
