-- GET /v1/orders/ID with a bearer token. Environment: LOAD_DIR, LOAD_TOKEN, LOAD_ORDER.
dofile(os.getenv("LOAD_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/v1/orders/" .. os.getenv("LOAD_ORDER")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LOAD_TOKEN")

function response(status, headers, body)
   count_status(status)
end
