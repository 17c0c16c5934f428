-- A plugin that is not there: the shell reports dlerror()'s message and,
-- with -bail, stops with status 1.
select 'before' as step;
.load /ext/nothere
select 'not reached' as step;
