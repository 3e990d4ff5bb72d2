-- Knowledge-base answers shown, and the customers' verdicts, one row each on the day it happened.
CREATE OR REPLACE VIEW knowledge_answers AS
SELECT
  conversation_id, team_id, channel, article_id, path_id, step_id,
  'shown' AS verdict, occurred_at, dt
FROM knowledge_answer_shown
UNION ALL
SELECT
  conversation_id, team_id, channel, article_id, path_id, step_id,
  CASE WHEN helpful THEN 'helped' ELSE 'did_not_help' END AS verdict, occurred_at, dt
FROM knowledge_answer_rated
