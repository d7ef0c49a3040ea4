/* The reply side of the error model and the JSON body parser shared by handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void reply_reset(struct request *req, unsigned status)
{
    free(req->reply.body);
    req->reply.body = NULL;
    req->reply.len = 0;
    req->reply.status = status;
    snprintf(req->reply.content_type, sizeof req->reply.content_type, "%s", JSON_CONTENT_TYPE);
}

void reply_set_body(struct request *req, const char *data, size_t len)
{
    char *copy = malloc(len + 1);
    free(req->reply.body);
    req->reply.body = copy;
    req->reply.len = copy ? len : 0;
    if (copy) {
        memcpy(copy, data, len);
        copy[len] = '\0';
    }
}

void reply_json(struct request *req, unsigned status, cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text) {
        reply_error(req, 500, "internal", "could not build the response");
        return;
    }
    reply_reset(req, status);
    req->reply.body = text;
    req->reply.len = strlen(text);
}

void reply_error(struct request *req, unsigned status, const char *code, const char *message)
{
    cJSON *doc = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    cJSON_AddStringToObject(err, "request_id", req->id);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    reply_reset(req, status);
    req->reply.body = text;
    req->reply.len = text ? strlen(text) : 0;
}

void reply_empty(struct request *req, unsigned status)
{
    reply_reset(req, status);
    req->reply.content_type[0] = '\0';
}

const char *error_code_for_status(unsigned status)
{
    static const struct {
        unsigned status;
        const char *code;
    } codes[] = {
        {400, "invalid_request"}, {401, "unauthenticated"}, {403, "forbidden"},
        {404, "not_found"}, {405, "method_not_allowed"}, {409, "conflict"},
        {413, "payload_too_large"}, {422, "invalid_request"}, {429, "rate_limited"},
        {500, "internal"}, {502, "bad_gateway"}, {503, "unavailable"}, {504, "timeout"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].status == status)
            return codes[i].code;
    return status >= 500 ? "internal" : "invalid_request";
}

cJSON *request_json_object(struct request *req)
{
    cJSON *doc = NULL;
    if (req->body_len > 0)
        doc = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        reply_error(req, 400, "invalid_request",
                    req->body_len ? "the request body is not a JSON object"
                                  : "a JSON request body is required");
        return NULL;
    }
    return doc;
}

const char *request_header(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
