-- Each ticket's state category (and team) over time: at creation, then after every state change.
CREATE OR REPLACE VIEW ticket_states AS
SELECT ticket_id, occurred_at AS changed_at, state_category AS category, team_id, dt
FROM ticket_created
UNION ALL
SELECT ticket_id, occurred_at AS changed_at, to_state_category AS category, team_id, dt
FROM ticket_state_changed
