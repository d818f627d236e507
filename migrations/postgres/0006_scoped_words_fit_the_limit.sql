-- A word of a tsvector is at most 2047 bytes, and the workspace prefix (0005) adds the
-- id's digits and an underscore: a word that fitted without it made the whole lesson
-- fail to save. Such a word (no one searches for 2,000 letters) is left out of the
-- index, as PostgreSQL's parser leaves out longer ones. Backslashes are written as
-- chr(92), so the functions mean the same whatever standard_conforming_strings says.
-- Stored vectors stay valid: every row saved so far passed the limit already.
CREATE OR REPLACE FUNCTION learnloop_scoped_words(workspace BIGINT, words tsvector)
RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CAST(coalesce(string_agg(
        '''' || workspace || '_'
        || replace(replace(w.lexeme, chr(92), chr(92) || chr(92)), '''', '''''') || ''''
        || coalesce(':' || (SELECT string_agg(p.position || p.weight, ',' ORDER BY p.position)
                           FROM unnest(w.positions, w.weights) AS p (position, weight)), ''),
        ' '), '') AS tsvector)
    FROM unnest(words) AS w
    WHERE octet_length(w.lexeme) + octet_length(CAST(workspace AS TEXT)) + 1 < 2048
$$;

CREATE OR REPLACE FUNCTION learnloop_scoped_query(workspace BIGINT, query tsquery)
RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CAST(regexp_replace(CAST(query AS text), '''((?:[^'']|'''')*)''',
                               '''' || workspace || '_' || chr(92) || '1''', 'g') AS tsquery)
$$;
