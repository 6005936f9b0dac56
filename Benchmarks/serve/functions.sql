-- Helpers of scripts/bench-serve's data (load.sql, addresses.sql): session-local (pg_temp), inlined by the planner.
CREATE OR REPLACE FUNCTION pg_temp.pick(arr text[], h bigint) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT arr[1 + (h % array_length(arr, 1))::int] $$;
-- A cheap integer hash (multiplicative, then folded).
CREATE OR REPLACE FUNCTION pg_temp.h(x bigint, salt bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT (((x + salt * 1000003) * 2654435761) % 4294967291 + 4294967291) % 4294967291 $$;

CREATE OR REPLACE FUNCTION pg_temp.first() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['Anna','Ben','Clara','David','Emma','Felix','Grace','Hugo','Ines','Jonas','Karin','Liam','Mia','Noah','Olivia',
          'Paul','Quinn','Rosa','Samuel','Tara','Umar','Vera','William','Xenia','Yusuf','Zoe','Amelia','Bruno','Chloe',
          'Daniel','Elena','Finn','Greta','Henry','Isla','Jakob','Kenji','Lena','Marco','Nora','Oscar','Priya','Rafael',
          'Sofia','Theo','Ulla','Victor','Wen','Yara','Zara','Ali','Bea','Carlos','Dara','Erik','Fatima','Gustav','Hana',
          'Ivan','Julia']::text[] $$;
CREATE OR REPLACE FUNCTION pg_temp.last() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['Schmidt','Miller','Garcia','Nguyen','Kowalski','Rossi','Dubois','Andersson','Okafor','Tanaka','Silva','Novak',
          'Johnson','Brown','Martin','Fischer','Weber','Meyer','Wagner','Becker','Hoffmann','Schulz','Koch','Richter','Klein',
          'Wolf','Lopez','Gonzalez','Perez','Sanchez','Ramirez','Torres','Flores','Rivera','Cohen','Levi','Murphy','Kelly',
          'Walsh','OBrien','Byrne','Ryan','Larsen','Nielsen','Jensen','Hansen','Berg','Lindqvist','Virtanen','Korhonen',
          'Horvath','Nagy','Popescu','Ionescu','Petrov','Ivanova','Yilmaz','Kaya','Demir','Sahin']::text[] $$;
CREATE OR REPLACE FUNCTION pg_temp.domains() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$ SELECT ARRAY['gmail.com','gmail.com','gmail.com','outlook.com','yahoo.com','hotmail.com','icloud.com','proton.me','gmx.de',
          'web.de','orange.fr','libero.it','example.org','mail.com','fastmail.com','aol.com']::text[] $$;

-- The address of "person" i (customers are 1..N; scripts/bench-serve uses N+1.. for missing ones and
-- 2N+1.. for guests): the name pair is i % 3600, the number i / 3600, so i is recoverable: unique.
CREATE OR REPLACE FUNCTION pg_temp.email(i bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(pg_temp.pick(pg_temp.first(), i % 60)) || (CASE WHEN pg_temp.h(i, 1) % 3 = 0 THEN '_' ELSE '.' END)
           || lower(pg_temp.pick(pg_temp.last(), (i / 60) % 60)) || CASE WHEN i / 3600 = 0 THEN '' ELSE (i / 3600)::text END
           || '@' || pg_temp.pick(pg_temp.domains(), pg_temp.h(i, 2)) $$;
