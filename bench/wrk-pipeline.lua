-- wrk-pipeline.lua: HTTP/1.1 pipelining for the "pipelined" workload of
-- bench/run.  Every write carries DEPTH copies of the request (the URL's
-- path, wrk's headers), default 16:
--
--   wrk -s wrk-pipeline.lua URL -- [DEPTH]
--
-- wrk parses the string request() returns, counts the requests in it and
-- then expects that many answers before it writes again; each answer counts
-- as one request in its results.

init = function(args)
   local depth = tonumber(args[1]) or 16
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format()
   end
   pipelined_request = table.concat(r)
end

request = function()
   return pipelined_request
end
