-- POST /v1/accounts/verify with correct facts (a success each time, so the lockout never
-- trips and every request does the full work). Environment: LOAD_DIR, LOAD_TOKEN (staff).
dofile(os.getenv("LOAD_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/v1/accounts/verify"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"phone":"13800138000","id_last4":"002X"}'

function response(status, headers, body)
   count_status(status)
end
