-- The tickets behind one backlog bucket (:segment; '' for all).
WITH
-- with: open_tickets
SELECT ticket_id, ticket_number, team_id, channel, ticket_type_id, created_at, age_hours, age_bucket
FROM open_tickets
WHERE :segment = '' OR :segment = age_bucket
ORDER BY age_hours DESC, ticket_number
