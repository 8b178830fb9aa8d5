-- wrk script of make bench (bench.sh): each connection pauses WRK_DELAY_MS milliseconds before each request, so
-- wrk -cN offers about N * 1000 / (WRK_DELAY_MS + latency) requests/s instead of as many as the service can take.
-- wrk's Lua API (delay() returns the pause before the next request, in ms): https://github.com/wg/wrk/blob/master/SCRIPTING
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if not pause or pause <= 0 then
  error("wrk-rate.lua: set WRK_DELAY_MS to a positive number of milliseconds")
end

function delay()
  return pause
end
