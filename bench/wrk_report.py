"""What the check-in benchmarks share: the wrk Lua that counts answers and prints
them, with wrk's latency figures, as one ``WRK {json}`` line for the script to read.

Written with ``%%`` escapes: each benchmark appends it to its own Lua (the part that
picks device keys) before filling that in with ``%``.
"""

WRK_REPORT_LUA = """
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_other = 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_other = total_other + thread:get("other")
  end
  io.write(string.format(
    'WRK {"requests": %%d, "ok": %%d, "other": %%d, "errors": %%d, "duration_us": %%d, '
    .. '"p50_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, total_ok, total_other,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.max))
end
"""
