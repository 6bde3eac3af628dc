// link: dynamic
// Sockets on loopback (TCP and UDP, between two processes) and a socketpair passing a descriptor with SCM_RIGHTS.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int send_descriptor(int socket, int fd) {
    char byte = 'F';
    struct iovec vector = {.iov_base = &byte, .iov_len = 1};
    union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET; header->cmsg_type = SCM_RIGHTS; header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &fd, sizeof fd);
    return sendmsg(socket, &message, 0);
}

static int receive_descriptor(int socket) {
    char byte;
    struct iovec vector = {.iov_base = &byte, .iov_len = 1};
    union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer};
    if (recvmsg(socket, &message, 0) != 1) return -1;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_type != SCM_RIGHTS) return -2;
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

int main(void) {
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    int data[2];
    pipe(data);
    write(data[1], "through a passed descriptor", 27);
    close(data[1]);
    fflush(stdout);
    if (fork() == 0) {
        close(pair[0]);
        send_descriptor(pair[1], data[0]);
        _exit(0);
    }
    close(data[0]);
    int received = receive_descriptor(pair[0]);
    char text[64] = {0};
    read(received, text, sizeof text - 1);
    printf("received descriptor: %d, text: %s\n", received >= 0, text);
    wait(NULL);

    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(server, (struct sockaddr *)&address, sizeof address);
    socklen_t length = sizeof address;
    getsockname(server, (struct sockaddr *)&address, &length);
    listen(server, 4);
    int value = 0;
    socklen_t size = sizeof value;
    getsockopt(server, SOL_SOCKET, SO_REUSEADDR, &value, &size);
    printf("listening on loopback, port assigned: %d, reuseaddr %d\n", ntohs(address.sin_port) != 0, value != 0);
    fflush(stdout);
    if (fork() == 0) {
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(client, (struct sockaddr *)&address, sizeof address) != 0) _exit(1);
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const char *request = "ping over tcp";
        send(client, request, strlen(request), 0);
        char reply[32] = {0};
        recv(client, reply, sizeof reply - 1, MSG_WAITALL);
        _exit(strcmp(reply, "PONG") == 0 ? 0 : 2);
    }
    struct sockaddr_in peer;
    socklen_t peerLength = sizeof peer;
    int connection = accept4(server, (struct sockaddr *)&peer, &peerLength, SOCK_CLOEXEC);
    char request[32] = {0};
    recv(connection, request, 13, MSG_WAITALL);
    printf("server got: %s from loopback %d\n", request, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    send(connection, "PONG", 4, 0);
    shutdown(connection, SHUT_WR);
    int status;
    wait(&status);
    printf("client exit %d\n", WEXITSTATUS(status));

    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in udpAddress = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(udp, (struct sockaddr *)&udpAddress, sizeof udpAddress);
    length = sizeof udpAddress;
    getsockname(udp, (struct sockaddr *)&udpAddress, &length);
    int sender = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(sender, "datagram", 8, 0, (struct sockaddr *)&udpAddress, sizeof udpAddress);
    char datagram[16] = {0};
    struct sockaddr_in from;
    socklen_t fromLength = sizeof from;
    ssize_t got = recvfrom(udp, datagram, sizeof datagram, 0, (struct sockaddr *)&from, &fromLength);
    printf("udp %zd bytes: %s, from length %u\n", got, datagram, fromLength);
    return 0;
}
