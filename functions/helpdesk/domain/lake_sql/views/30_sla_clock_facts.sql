-- Every stop of an SLA clock, with the business time it ran: first response times are the
-- first_response clock's fulfilled stops, resolution times the resolution clock's.
CREATE OR REPLACE VIEW sla_clock_facts AS
SELECT
  s.ticket_id,
  s.ticket_number,
  s.ticket_type_id,
  s.team_id,
  s.assignee_id,
  s.clock,
  s.started_at,
  s.occurred_at AS stopped_at,
  s.fulfilled,
  s.elapsed_seconds,
  s.target_seconds,
  s.breached_at,
  COALESCE(t.channel, 'inbox') AS channel,
  s.dt
FROM sla_clock_stopped AS s
LEFT JOIN tickets AS t ON t.ticket_id = s.ticket_id
