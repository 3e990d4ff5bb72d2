-- The conversations and tickets behind one day of the volumes (:segment, a day; '' for all).
SELECT kind, item_id, ticket_number, channel, team_id, ticket_type_id, occurred_at
FROM volume_facts
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel) AND (:segment = '' OR dt = :segment)
ORDER BY occurred_at, item_id
