-- Search splits words at punctuation, as the SQLite index and the query side do:
-- PostgreSQL's parser alone keeps `2.3`, `api.example.com` or `src/main.rs` as one
-- token, so searching `example` or `main` missed them. Punctuation becomes a space
-- before the text is parsed ([:punct:] is ASCII punctuation in every locale; the
-- parser already splits at any other non-word character).
DROP INDEX lessons_search;
ALTER TABLE lessons DROP COLUMN search;
ALTER TABLE lessons ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('learnloop', regexp_replace(tags, '[[:punct:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('learnloop', regexp_replace(text, '[[:punct:]]+', ' ', 'g')), 'B')
    || setweight(to_tsvector('learnloop', regexp_replace(debrief_title, '[[:punct:]]+', ' ', 'g')), 'C')
) STORED;
CREATE INDEX lessons_search ON lessons USING GIN (search);
