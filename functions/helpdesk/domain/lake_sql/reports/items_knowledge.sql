-- The conversations behind one article's figures (:segment, an article id; '' for all).
SELECT conversation_id, article_id, path_id, step_id, verdict, occurred_at
FROM knowledge_answers
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel) AND (:segment = '' OR article_id = :segment)
ORDER BY occurred_at, conversation_id, verdict
