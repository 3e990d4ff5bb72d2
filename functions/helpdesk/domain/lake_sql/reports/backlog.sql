-- Tickets still open at the end of the range (:as_of), by how long they had been open then.
WITH
-- with: open_tickets
SELECT age_bucket, count(*) AS open_tickets
FROM open_tickets
GROUP BY age_bucket
ORDER BY min(CASE age_bucket WHEN 'under 1 day' THEN 1 WHEN '1-3 days' THEN 2 WHEN '3-7 days' THEN 3 ELSE 4 END)
