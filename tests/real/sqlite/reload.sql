-- Loading, unloading and loading again: sqlite3_close (here through .open)
-- dlcloses every extension the connection loaded; rot13 is loaded twice, so
-- its handle is shared and counted. The next connection loads them again,
-- into the memory and table space the first ones gave back.
.load /ext/rot13
.load /ext/rot13
.load /ext/csv
select rot13('abc');
create virtual table temp.p using csv(filename='/data/data.csv', header=true);
select count(*) from p;
.open :memory:
select 'reopened';
.load /ext/spellfix
.load /ext/csv
.load /ext/rot13
select rot13('xyz'), editdist3('abc', 'abd');
create virtual table temp.p using csv(filename='/data/data.csv', header=true);
select group_concat(name) from p;
.open :memory:
.load /ext/percentile
select percentile(value, 25) from generate_series(1, 9);
