-- One SLA decision per clock run and day: 'breached' when the breach was reported (SlaBreached) or
-- the clock stopped past its target; 'met' when it stopped within it. A run is (ticket, clock,
-- started_at); a stop after a reported breach decides nothing new.
CREATE OR REPLACE VIEW sla_outcomes AS
WITH decisions AS (
  SELECT
    ticket_id, ticket_number, ticket_type_id, team_id, assignee_id, clock, started_at,
    occurred_at, 'breached' AS outcome, dt
  FROM sla_breached
  UNION ALL
  SELECT
    ticket_id, ticket_number, ticket_type_id, team_id, assignee_id, clock, started_at,
    occurred_at, CASE WHEN elapsed_seconds > target_seconds THEN 'breached' ELSE 'met' END AS outcome, dt
  FROM sla_clock_stopped
  WHERE breached_at IS NULL
),
runs AS (
  SELECT
    ticket_id,
    max(ticket_number) AS ticket_number,
    max_by(ticket_type_id, occurred_at) AS ticket_type_id,
    max_by(team_id, occurred_at) AS team_id,
    max_by(assignee_id, occurred_at) AS assignee_id,
    clock,
    started_at,
    max(occurred_at) AS decided_at,
    CASE WHEN count_if(outcome = 'breached') > 0 THEN 'breached' ELSE 'met' END AS outcome,
    dt
  FROM decisions
  GROUP BY ticket_id, clock, started_at, dt
)
SELECT
  r.ticket_id,
  r.ticket_number,
  r.ticket_type_id,
  r.team_id,
  r.assignee_id,
  r.clock,
  r.started_at,
  r.decided_at,
  r.outcome,
  COALESCE(t.channel, 'inbox') AS channel,
  r.dt
FROM runs AS r
LEFT JOIN tickets AS t ON t.ticket_id = r.ticket_id
