-- How the bot's part of each conversation ended, on the path and step it ended on.
CREATE OR REPLACE VIEW bot_outcomes AS
SELECT
  conversation_id,
  team_id,
  channel,
  outcome,
  outcome = 'resolved' AS resolved,
  resolved_by,
  path_id,
  step_id,
  handoff_reason,
  occurred_at AS ended_at,
  dt
FROM bot_conversation_ended
