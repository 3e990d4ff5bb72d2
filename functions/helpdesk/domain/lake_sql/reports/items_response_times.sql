-- The tickets behind one team's response and resolution times (:segment, a team; '' for all).
SELECT ticket_id, ticket_number, team_id, assignee_id, clock, elapsed_seconds, stopped_at
FROM sla_clock_facts
WHERE clock IN ('first_response', 'resolution') AND fulfilled AND dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel) AND (:segment = '' OR team_id = :segment)
ORDER BY stopped_at, ticket_number, clock
