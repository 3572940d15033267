// The system librabbitmq headers (Debian 12 ships 0.11 with <amqp.h>; 0.13+ moved to <rabbitmq-c/...>).
#pragma once
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif
