-- Each function and virtual table below comes from a loadable extension of
-- SQLite's ext/misc, built as a wasm plugin and loaded with .load (through
-- sqlite3_load_extension, unixDlOpen and dlopen/dlsym).
.load /ext/rot13
.load /ext/percentile
.load /ext/sha1
.load /ext/uuid
.load /ext/csv
.load /ext/spellfix
.headers on
.mode list
-- load_extension() from SQL, with an explicit entry point (dlsym)
select load_extension('/ext/eval.so', 'sqlite3_eval_init') is null as eval_loaded;
-- rot13.c
select rot13('Hello, WebAssembly!') as rot13, rot13(rot13('dlopen')) as twice;
-- percentile.c: an aggregate function over series (built into the shell)
select percentile(value, 50) as p50, percentile(value, 90) as p90,
       percentile(value, 100) as p100 from generate_series(1, 100);
-- sha1.c
select sha1('abc') as sha1;
select sha1('') as sha1_empty;
-- uuid.c: uses isxdigit from the shell's libc (exported with --export=isxdigit)
select uuid_str(uuid_blob('A1B2C3D4-0000-1111-2222-333344445555')) as uuid;
select length(uuid()) as len, substr(uuid(), 15, 1) as version, uuid() <> uuid() as differ;
-- csv.c: a virtual table reading a file through the plugin's fopen/fread
create virtual table temp.projects using csv(filename='/data/data.csv', header=true);
select name, lang, stars from projects order by cast(stars as integer) desc;
select count(*) as rows, sum(stars) as stars from projects;
-- spellfix.c: edit distances and the spellfix1 virtual table
select editdist3('kitten', 'sitting') as editdist3, spellfix1_editdist('webassembly', 'webasembly') as spellfix1_editdist;
create virtual table temp.words using spellfix1;
insert into words(word) values ('dynamic'), ('linker'), ('plugin'), ('webassembly'), ('sqlite');
select word from words where word match 'plugn' and top = 1;
select word from words where word match 'webasembly' and top = 1;
-- eval.c: runs SQL from SQL, reading the csv table
select eval('select group_concat(name, ''+'') from projects') as eval;
