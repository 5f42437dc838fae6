-- wrk script: POST /page/users with {"page":P,"size":S} (SIZE from the environment, default 10).
local size = os.getenv("SIZE") or "10"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"page":3,"size":' .. size .. '}'
