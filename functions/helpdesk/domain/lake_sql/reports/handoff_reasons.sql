-- Why the bot handed conversations to a person.
SELECT
  handoff_reason,
  count(*) AS conversations
FROM bot_outcomes
WHERE outcome = 'handed_off' AND handoff_reason IS NOT NULL AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
GROUP BY handoff_reason
ORDER BY conversations DESC, handoff_reason
