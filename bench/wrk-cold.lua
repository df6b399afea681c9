-- wrk-cold.lua: the "gzip-1-cold" and "gzip-6-cold" workloads of
-- bench/run.  Each request asks for another of FILES names of the same
-- page (URL path + NNNNN.html, hard links made by bench/run), each wrk
-- thread cycling through a share of its own, so that a name comes back
-- only after FILES / THREADS of the thread's requests: more names than
-- any server's open-file cache holds, and no server can answer from a
-- compressed copy it kept.
--
--   wrk -s wrk-cold.lua URL -- FILES THREADS
--
-- It costs wrk a Lua call per request, the same for every server.

local made = 0

setup = function(thread)
   thread:set("id", made)
   made = made + 1
end

init = function(args)
   local files = tonumber(args[1]) or 16384
   local threads = tonumber(args[2]) or 1
   share = math.floor(files / threads)
   base = (id or 0) * share
   n = 0
end

request = function()
   local path = string.format("%s%05d.html", wrk.path, base + n)
   n = (n + 1) % share
   return wrk.format(nil, path)
end
