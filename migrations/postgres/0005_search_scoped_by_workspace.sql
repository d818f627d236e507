-- A search reads one workspace's postings only, as SQLite's workspace-prefixed terms
-- do: every word in the index carries its workspace (`17_deploy`), and so does every
-- word of a query. With the workspace beside the words (0004, btree_gin), a common word
-- or a prefix still read its postings in every workspace before keeping one's: a prefix
-- query took 16-22 ms at 1,000,000 lessons, and the planner sometimes preferred the
-- words alone and read every workspace's matches.
CREATE FUNCTION learnloop_scoped_words(workspace BIGINT, words tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CAST(coalesce(string_agg(
        '''' || workspace || '_' || replace(replace(w.lexeme, '\', '\\'), '''', '''''') || ''''
        || coalesce(':' || (SELECT string_agg(p.position || p.weight, ',' ORDER BY p.position)
                           FROM unnest(w.positions, w.weights) AS p (position, weight)), ''),
        ' '), '') AS tsvector)
    FROM unnest(words) AS w
$$;

-- The same workspace prefix on every word of a query (`'deploy' & 'flag':*` becomes
-- `'17_deploy' & '17_flag':*`); quoted words in a tsquery's text double their quotes.
CREATE FUNCTION learnloop_scoped_query(workspace BIGINT, query tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CAST(regexp_replace(CAST(query AS text), '''((?:[^'']|'''')*)''',
                               '''' || workspace || '_\1''', 'g') AS tsquery)
$$;

DROP INDEX lessons_search;
ALTER TABLE lessons DROP COLUMN search;
ALTER TABLE lessons ADD COLUMN search tsvector GENERATED ALWAYS AS (
    learnloop_scoped_words(workspace_id,
        setweight(to_tsvector('learnloop', regexp_replace(tags, '[[:punct:]]+', ' ', 'g')), 'A')
        || setweight(to_tsvector('learnloop', regexp_replace(text, '[[:punct:]]+', ' ', 'g')), 'B')
        || setweight(to_tsvector('learnloop', regexp_replace(debrief_title, '[[:punct:]]+', ' ', 'g')), 'C'))
) STORED;
CREATE INDEX lessons_search ON lessons USING GIN (search);
