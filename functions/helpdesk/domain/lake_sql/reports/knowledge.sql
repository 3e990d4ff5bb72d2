-- Knowledge-base articles: how often the bot showed each, and what customers said of it.
SELECT
  article_id,
  count_if(verdict = 'shown') AS shown,
  count_if(verdict = 'helped') AS helped,
  count_if(verdict = 'did_not_help') AS did_not_help
FROM knowledge_answers
WHERE dt BETWEEN :from_day AND :to_day AND (:team_id = '' OR team_id = :team_id) AND (:channel = '' OR channel = :channel)
GROUP BY article_id
ORDER BY did_not_help DESC, shown DESC, article_id
